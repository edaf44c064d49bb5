"""Hand-derived forward and backward passes of the MLP, with fused updates.

Why not autograd + optim.SGD: for this tiny network the per-step overhead of
autograd, zero_grad and a separate optimizer pass is a large share of a step.
Here SGD folds the gradient into the update (`W.addmm_(g.T, h, alpha=-lr)`),
so a step is eight matrix products (forward 3; input gradients 2, dz @ W3 and
dh2 @ W2, layer 1's never being needed; weight gradients 3, each fused into
its update) and no gradient buffers. tests/test_engine.py checks every
gradient against autograd and counts the products.

Loss: mean over the batch of cross-entropy (log-softmax + NLL), as in PyTorch's
default and the post's "loss averaged over the batch".
"""
import contextlib

import torch

_relu_grad = torch.ops.aten.threshold_backward  # (g, h, 0): g where h > 0 else 0, one pass, no bool mask


def forward(params, x):
    """Logits and the two hidden activations (post-ReLU)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = torch.addmm(b1, x, W1.t()).relu_()
    h2 = torch.addmm(b2, h1, W2.t()).relu_()
    return torch.addmm(b3, h2, W3.t()), h1, h2


def _dlogits(z, y, scale):
    """d(loss)/d(logits) = (softmax - onehot) * scale, computed in place of softmax."""
    p = torch.softmax(z, dim=1)
    p[torch.arange(len(y), device=y.device), y] -= 1.0
    return p.mul_(scale)


def grads(params, x, y, reduction: str = "mean"):
    """Gradients of the batch loss w.r.t. [W1, b1, W2, b2, W3, b3]."""
    W1, b1, W2, b2, W3, b3 = params
    z, h1, h2 = forward(params, x)
    dz = _dlogits(z, y, 1.0 / len(y) if reduction == "mean" else 1.0)
    dh2 = _relu_grad(dz @ W3, h2, 0)
    dh1 = _relu_grad(dh2 @ W2, h1, 0)
    return [dh1.t() @ x, dh1.sum(0), dh2.t() @ h1, dh2.sum(0), dz.t() @ h2, dz.sum(0)]


SMALL_BATCH = 4  # at or below: rank-1 updates (addr_) beat one skinny addmm_ by up to 4x on CPU


def _update(W, g, h, lr):
    """W -= lr * g.T @ h, without materialising the gradient. For a handful of
    rows BLAS handles the k=B outer product poorly; B rank-1 updates are faster."""
    if len(g) <= SMALL_BATCH and W.device.type == "cpu":
        for gi, hi in zip(g, h):
            W.addr_(gi, hi, alpha=-lr)
    else:
        W.addmm_(g.t(), h, alpha=-lr)


def sgd_step(params, x, y, lr: float):
    """One in-place SGD step on the batch-mean loss. Each layer's input
    gradient is taken before that layer's weights are overwritten."""
    W1, b1, W2, b2, W3, b3 = params
    z, h1, h2 = forward(params, x)
    dz = _dlogits(z, y, 1.0 / len(y))
    dh2 = _relu_grad(dz @ W3, h2, 0)
    _update(W3, dz, h2, lr)
    b3.sub_(dz.sum(0), alpha=lr)
    dh1 = _relu_grad(dh2 @ W2, h1, 0)
    _update(W2, dh2, h1, lr)
    b2.sub_(dh2.sum(0), alpha=lr)
    _update(W1, dh1, x, lr)
    b1.sub_(dh1.sum(0), alpha=lr)


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad) on our flat params,
    with the same defaults: betas (0.9, 0.999), eps 1e-8."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def gradients(self, x, y):
        """The mean-loss gradients of a batch (harness/batched.py's Adam: batched over seeds)."""
        return grads(self.params, x, y)

    def step(self, x, y):
        b1, b2 = self.betas
        self.t += 1
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, self.gradients(x, y), self.m, self.v):
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / bc2 ** 0.5).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bc1)


@contextlib.contextmanager
def denormals_flushed(on: bool = True):
    """Flush denormal floats to zero inside the block (torch's default, off, after it).

    Why: an Adam run soon classifies some training images with softmax
    probabilities below 1e-38, and every matrix product that meets those
    denormals runs several times slower on x86 (a 15-epoch BS64 Adam run at
    quick scale: 54 s -> 32 s). The numbers they carry are far below one ulp
    of anything they are added to: the runs compared bit for bit with and
    without the flush are identical (tests/test_engine.py; the quick Adam runs
    of 3 seeds, quick SGD runs and the paper-scale Adam run of seed 2, whole
    histories; that one took 410 s instead of 2245 s). That is measured on the
    suite's runs, not a theorem: a contrived batch can move Adam's last bits."""
    if not on:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@torch.no_grad()
def evaluate(params, x, y, chunk: int = 4096):
    """(mean cross-entropy, accuracy) over a dataset, in chunks to bound memory."""
    loss, correct = 0.0, 0
    for i in range(0, len(x), chunk):
        z, _, _ = forward(params, x[i:i + chunk])
        yy = y[i:i + chunk]
        loss += torch.nn.functional.cross_entropy(z, yy, reduction="sum").item()
        correct += (z.argmax(1) == yy).sum().item()
    return loss / len(x), correct / len(x)
