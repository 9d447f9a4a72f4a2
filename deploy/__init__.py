"""Deployment files (compose, Prometheus, Grafana) and the local cluster that runs them."""
