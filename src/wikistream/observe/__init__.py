"""Observability: Prometheus metrics, alert rules and alert sinks.

Nothing is imported here: every process reads ``observe.config`` through the settings, and
the sinks pull in httpx (with rich and pygments) and the metrics prometheus_client. Import from
the modules. Typical wiring (one object per process, passed explicitly)::

    metrics = PipelineMetrics()
    server = serve_metrics(metrics, settings.observe.metrics_host, settings.observe.metrics_port)
    evaluator = AlertEvaluator(build_rules(settings), build_sinks(settings.observe),
                               settings.observe.alert_cooldown_s, metrics=metrics)
    thread, stop = start_alert_thread(metrics, evaluator,
                                      interval_s=settings.observe.alert_interval_s)
"""
