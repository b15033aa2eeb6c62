"""The QLoRA/LoRA SFT trainer for Spider text-to-SQL (run: accelerate launch training/sft.py --lr 1e-4)."""
