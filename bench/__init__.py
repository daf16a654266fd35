"""Benchmarks for warden: Azure calls per event, throughput, audit cost, memory and cold start (bench/run.py)."""
