"""The emulator's kernel: the HTTPS server, the clock, faults, the request log and the scenario loader.

It knows nothing about ARM or any Azure service; services plug in through `kernel.service.Service`.
"""
