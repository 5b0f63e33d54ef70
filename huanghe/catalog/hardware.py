"""Node models of the Chinese market and the reference devices that job run times are quoted on.

**Reference devices** (``JobSpec.duration_s`` is the run time on the reference of the job's kind; a pool's
``speed[kind]`` is how many times faster one of its cores / accelerators runs that kind):

* ``cpu``: one core of a 2.5 GHz x86-64 server CPU (Intel Xeon Gold 6248-class, AVX-512) = 1.0 per core;
* ``hpc``: the same core on FP64-bound MPI codes = 1.0 per core;
* ``gpu``: one NVIDIA A100 80GB SXM on mixed-precision (FP16/BF16) training = 1.0 per device;
* ``inference``: one NVIDIA A100 80GB SXM serving models = 1.0 per device.

Per-node peaks are the accelerators' (or, for CPU nodes, the CPUs') figures times the devices per node.
Accelerator figures are from the vendors' public datasheets where published (NVIDIA A100/A800, H800, H20,
L20, V100, T4 dense tensor figures, FP64 vector); Ascend 910B and Hygon DCU Z100 figures are the widely
reported ones (not from an official datasheet); CPU peaks are cores × base clock × FLOP/cycle. A precision
that is not supported or not in the datasheet is 0 (e.g. H20 / T4 FP64, V100 INT8). Speeds, power per node and prices (CNY per node-hour) are
**illustrative** market-plausible values, not quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

from huanghe.domain.enums import JobKind
from huanghe.domain.network import PeakTflops, Pool

REFERENCE_DEVICES: dict[JobKind, str] = {
    JobKind.CPU: "one core of a 2.5 GHz x86-64 server CPU (Intel Xeon Gold 6248-class)",
    JobKind.HPC: "one core of a 2.5 GHz x86-64 server CPU (Intel Xeon Gold 6248-class), FP64 MPI codes",
    JobKind.GPU: "one NVIDIA A100 80GB SXM, mixed-precision training",
    JobKind.INFERENCE: "one NVIDIA A100 80GB SXM, model serving",
}


@dataclass(frozen=True)
class NodeModel:
    """One server model: per-node resources, peak TFLOPS per precision, IT power (kW), price (CNY/node-hour)."""

    key: str
    label: str
    accelerator: str
    accelerator_class: str
    cpu_model: str
    cpus_per_node: int
    gpus_per_node: int
    mem_gb_per_node: float
    fp64: float
    fp32: float
    fp16: float
    int8: float
    power_kw_per_node: float
    price_cny_per_hour: float
    speed: tuple[tuple[JobKind, float], ...]

    @property
    def peak(self) -> PeakTflops:
        return PeakTflops(fp64=self.fp64, fp32=self.fp32, fp16=self.fp16, int8=self.int8)


def _cpu(
    key: str, label: str, cores: int, mem: float, fp64: float, kw: float, price: float, cpu: float, hpc: float
) -> NodeModel:
    """A dual-socket CPU node; FP32 peak = 2 × FP64 peak (SIMD lanes)."""
    return NodeModel(
        key, label, "", "cpu", label, cores, 0, mem, fp64, 2 * fp64, 0.0, 0.0, kw, price,
        ((JobKind.CPU, cpu), (JobKind.HPC, hpc)),
    )  # fmt: skip


def _acc(
    key: str,
    accelerator: str,
    cls: str,
    cpu_model: str,
    cores: int,
    devices: int,
    mem: float,
    per_device: tuple[float, float, float, float],
    kw: float,
    price: float,
    speeds: tuple[float, float, float],
) -> NodeModel:
    """An accelerator node: ``per_device`` = (fp64, fp32, fp16, int8) of one device; ``speeds`` = (gpu,
    inference, host cpu)."""
    fp64, fp32, fp16, int8 = (round(v * devices, 3) for v in per_device)
    gpu, inference, cpu = speeds
    return NodeModel(
        key, f"{devices}× {accelerator}", accelerator, cls, cpu_model, cores, devices, mem,
        fp64, fp32, fp16, int8, kw, price,
        ((JobKind.GPU, gpu), (JobKind.INFERENCE, inference), (JobKind.CPU, cpu)),
    )  # fmt: skip


#: Server models by key. CPU peaks: cores × base GHz × FP64 FLOP/cycle (AVX-512 2 FMA = 32, AVX2/NEON = 8-16).
NODE_MODELS: dict[str, NodeModel] = {
    m.key: m
    for m in (
        # key, label, cores, mem GB, FP64 TFLOPS/node, kW, CNY/node-h, cpu speed/core, hpc speed/core
        _cpu("kunpeng920", "2× Kunpeng 920 7260 (64C 2.6 GHz)", 128, 512, 2.66, 0.60, 8.0, 0.80, 0.70),
        _cpu("hygon7285", "2× Hygon C86 7285 (32C 2.0 GHz)", 64, 256, 1.02, 0.50, 4.5, 0.80, 0.70),
        _cpu("xeon8358", "2× Intel Xeon Platinum 8358 (32C 2.6 GHz)", 64, 512, 5.32, 0.70, 7.0, 1.10, 1.30),
        _cpu("xeon6248r", "2× Intel Xeon Gold 6248R (24C 3.0 GHz)", 48, 384, 4.61, 0.55, 4.0, 1.05, 1.10),
        _cpu("epyc7763", "2× AMD EPYC 7763 (64C 2.45 GHz)", 128, 1024, 5.02, 0.80, 12.0, 1.15, 1.20),
        _cpu("xeon4314", "2× Intel Xeon Silver 4314 (16C 2.4 GHz)", 32, 256, 1.23, 0.40, 3.0, 0.90, 0.80),
        # accelerators: per-device (fp64, fp32, fp16 dense tensor, int8 dense), kW/node, CNY/node-h,
        # speeds (gpu training, inference, host cpu per core)
        _acc("a100", "NVIDIA A100 80GB", "gpu", "2× Intel Xeon Platinum 8358", 64, 8, 2048,
             (9.7, 19.5, 312.0, 624.0), 6.5, 110.0, (1.0, 1.0, 1.1)),
        _acc("a800", "NVIDIA A800 80GB", "gpu", "2× Intel Xeon Platinum 8358", 64, 8, 2048,
             (9.7, 19.5, 312.0, 624.0), 6.5, 100.0, (0.95, 1.0, 1.1)),
        _acc("h800", "NVIDIA H800 80GB", "gpu", "2× Intel Xeon Platinum 8480+", 112, 8, 2048,
             (1.0, 67.0, 989.5, 1979.0), 10.2, 200.0, (2.5, 2.2, 1.2)),
        _acc("h20", "NVIDIA H20 96GB", "gpu", "2× Intel Xeon Gold 6462C", 64, 8, 2048,
             (0.0, 44.0, 148.0, 296.0), 5.5, 72.0, (0.6, 1.1, 1.2)),
        _acc("l20", "NVIDIA L20 48GB", "gpu", "2× Intel Xeon Gold 6430", 64, 8, 1024,
             (0.0, 59.8, 119.5, 239.0), 3.5, 36.0, (0.45, 0.6, 1.0)),
        _acc("v100", "NVIDIA V100 32GB", "gpu", "2× Intel Xeon Gold 6148", 40, 8, 512,
             (7.8, 15.7, 125.0, 0.0), 3.5, 40.0, (0.4, 0.45, 0.95)),
        _acc("t4", "NVIDIA T4 16GB", "gpu", "2× Intel Xeon Gold 6230", 40, 4, 384,
             (0.0, 8.1, 65.0, 130.0), 1.0, 10.0, (0.12, 0.25, 0.95)),
        _acc("ascend910b", "Ascend 910B", "npu", "4× Kunpeng 920 (48C)", 192, 8, 1024,
             (0.0, 0.0, 320.0, 640.0), 5.5, 80.0, (0.8, 0.75, 0.8)),
        _acc("z100", "Hygon DCU Z100", "dcu", "2× Hygon C86 7285", 64, 4, 256,
             (10.1, 10.1, 24.5, 0.0), 1.8, 12.0, (0.25, 0.25, 0.8)),
    )
}  # fmt: skip


def make_pool(model_key: str, pool_id: str, nodes: int, price_factor: float = 1.0, name: str = "") -> Pool:
    """A pool of ``nodes`` nodes of one model; price = model price × ``price_factor`` (CNY per node-hour).
    Back-end of the dev set-up: ``local`` for CPU nodes, ``simulated`` for accelerator nodes (no accelerator
    here: their jobs are simulated for their estimated run time, never presented as real runs)."""
    m = NODE_MODELS[model_key]
    return Pool(
        id=pool_id,
        name=name or m.label,
        accelerator=m.accelerator,
        accelerator_class=m.accelerator_class,
        cpu_model=m.cpu_model,
        nodes=nodes,
        cpus_per_node=m.cpus_per_node,
        gpus_per_node=m.gpus_per_node,
        mem_gb_per_node=m.mem_gb_per_node,
        peak_tflops_per_node=m.peak,
        power_kw_per_node=m.power_kw_per_node,
        price_cny_per_hour=round(m.price_cny_per_hour * price_factor, 2),
        speed=dict(m.speed),
        # the dev set-up (issue #12): CPU nodes run sandboxed on this host, accelerator nodes are simulated
        backend="local" if m.accelerator_class == "cpu" else "simulated",
        illustrative=True,
    )
