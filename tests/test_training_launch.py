"""training/sft.py launched over two processes on CPUs (gloo): torchrun and the shipped DDP accelerate config."""

import sys

import pytest

from tests.training_runs import DDP_LAUNCH, meta, run_sft

pytestmark = pytest.mark.slow


def test_two_process_ddp_on_cpu(tiny_model, sample_spider, tmp_path):
    out = tmp_path / "ddp"
    torchrun = (sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2")
    proc = run_sft(tiny_model, sample_spider, out, "--max_steps", "4", launcher=torchrun)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    assert info["world_size"] == 2 and info["effective_batch_size"] == 8 and info["epochs"] == 2.0


def test_the_ddp_accelerate_config_launches_two_processes_on_cpu(tiny_model, sample_spider, tmp_path):
    """The shipped DDP accelerate config, as users launch it; without GPUs accelerate runs it over gloo on CPUs.
    (accelerate has no FSDP on CPUs, so fsdp.yaml can only run on GPUs.)"""
    out = tmp_path / "ddp-accelerate"
    proc = run_sft(tiny_model, sample_spider, out, "--max_steps", "4", launcher=DDP_LAUNCH)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    assert (info["world_size"], info["distributed_type"], info["steps"]) == (2, "DistributedType.MULTI_CPU", 4)
    assert (out / "adapter_model.safetensors").is_file()
