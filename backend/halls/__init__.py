"""Service halls (便民服务中心): their reference data, attendance events, alert rules and the
alerts' lifecycle, applied by an engine-side processor on its own Redis stream."""
