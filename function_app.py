"""Azure Functions entry points: triggers and wiring only; the behaviour lives in warden/."""

import azure.functions as func

from warden.azure import admin_routes
from warden.azure import functions_host as host
from warden.settings import SWEEP_QUEUE_CONNECTION

# An invalid baseline or WARDEN_* setting fails here, when the worker indexes the app, not on every event.
host.check_startup()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.function_name("resource_event")
@app.event_grid_trigger(arg_name="event")
def resource_event(event: func.EventGridEvent) -> None:
    host.on_event(event)


@app.function_name("sweep")
@app.timer_trigger(arg_name="timer", schedule="0 0 * * * *", run_on_startup=False, use_monitor=True)
def sweep(timer: func.TimerRequest) -> None:
    host.on_timer(timer)


# Listing every account's fine-tuning files costs a data-plane call per account: its own, rarer schedule.
@app.function_name("data_sweep")
@app.timer_trigger(arg_name="timer", schedule="%WARDEN_DATA_SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def data_sweep(timer: func.TimerRequest) -> None:
    host.on_data_timer(timer)


# One subscription of a fanned-out sweep (docs/scale.md "Fan-out"): the queue the timers fill when WARDEN_SWEEP_QUEUE
# is set, reached through WARDEN_SWEEP_QUEUE_STORAGE (in Azure: WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri, the
# managed identity). Raising makes the host redeliver the item (host.json extensions.queues).
@app.function_name("sweep_item")
@app.queue_trigger(arg_name="msg", queue_name="%WARDEN_SWEEP_QUEUE%", connection=SWEEP_QUEUE_CONNECTION)
def sweep_item(msg: func.QueueMessage) -> None:
    host.on_sweep_item(msg)


@app.function_name("health")
@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return host.on_health(req)


@app.function_name("audit")
@app.route(route="audit", methods=["GET"])
def audit(req: func.HttpRequest) -> func.HttpResponse:
    return host.on_audit(req)


# The admin's pages (docs/review.md): HTML read from the audit log over a bounded window, function key required.
@app.function_name("report")
@app.route(route="report", methods=["GET"])
def report(req: func.HttpRequest) -> func.HttpResponse:
    return admin_routes.on_report(req)


@app.function_name("audit_page")
@app.route(route="audit/page", methods=["GET"])
def audit_page(req: func.HttpRequest) -> func.HttpResponse:
    return admin_routes.on_audit_page(req)


@app.function_name("check")
@app.route(route="check", methods=["POST"])
def check(req: func.HttpRequest) -> func.HttpResponse:
    return host.on_check(req)
