"""How to run: one protocol, several back-ends (local, slurm, ray, kubernetes, fake)."""
