# torch.save of nn.Linear(4, 2)'s state dict: the `pytorch_model.bin` README.md's PyTorch block loads.
# Run with /usr/bin/python3 (torch); writes linear.bin beside this file.
import os
import torch

torch.manual_seed(0)
torch.save(torch.nn.Linear(4, 2).state_dict(), os.path.join(os.path.dirname(os.path.abspath(__file__)), 'linear.bin'))
