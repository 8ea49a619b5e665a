"""The leader's drill-down: filters, stages from the event log, the stuck table's rows, where
cases get stuck, overdue risk, assessment and periodic reports."""
