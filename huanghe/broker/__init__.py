"""Where to run: snapshot, filters, estimates, policies, queue order, backfill, explanations.

Pure: never imports a back-end, the database or FastAPI; time comes from an injected clock
(:class:`huanghe.core.clock.Clock`, read once when a snapshot is built) or is given as ``now_s``.

Map (imports point down the list):

* the network and the jobs: ``snapshot`` (the network as arrays), ``carbon`` (hourly intensity), ``batch``
  (jobs as arrays);
* one placement decision: ``filters``, ``estimates``, ``explain``, ``decision`` (``Decision``, ``Scores``, the
  ``PlacementPolicy`` protocol and the policy-name errors);
* whole-cycle placement policies: ``cycle_context`` (names, ``Status``, ``Weights``, ``CycleContext``),
  ``job_classes``, ``scoring``, ``cycle`` (``run_cycle``), ``policies`` (the policy classes and the public face
  of the cycle), ``batch_milp`` (``huanghe-batch``);
* ``engine``: ``PlacementEngine`` and the placement-policy registry;
* one cluster's queue: ``queue_types``, ``runtime_predict``, ``fairshare`` (the one DRF implementation),
  ``queue`` (orders, backfill modes and the queue-policy registry), ``backfill``, ``cluster_queue``;
* GPU packing inside a cluster: ``packing_cluster``, ``fragmentation``, ``packing_policies`` (and their
  registry), ``packing`` (the ``Packer`` and the public face).

Every registry is a :class:`huanghe.core.registry.Registry`: a duplicate name is an error and an unknown one
raises an :class:`~huanghe.core.registry.UnknownNameError` that names the known ones.
"""
