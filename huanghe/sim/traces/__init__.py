"""Trace loaders: public workload traces turned into simulator workloads."""
