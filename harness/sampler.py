"""The fast sampler of the gradient experiment (F4-F7, harness/gradients.py):
one trial steps through the same 1024 samples at each batch size from a fixed
start point and returns the last layer's accumulated weight gradient.

Speed: the first layer is never updated explicitly. With P1 = X W1_0^T + b1_0
precomputed once per trial (shared by all batch sizes) and G = X X^T + 1,
the first layer's pre-activation of sample t after earlier samples s is
    z1_t = P1_t - sum_{s earlier} G[t, s] * lr * d1_s,
(d1_s: the batch-mean loss's gradient w.r.t. z1 of sample s). Updates are
delayed in blocks of BLOCK samples: inside a block the block's earlier
updates enter as short Gram corrections (layer 1 as above, layer 2 through
[h1, 1] products); at the block's end they are folded with one GEMM into an
explicit per-trial [W2 | b2] and into P1 of every later sample. float32
trials are stepped one at a time (the per-trial W2 stays in cache), with
oneDNN's prepacked products for batch sizes 2-31; float64 stacks T trials as
a leading bmm dimension. benchmarks/RESULTS.md has the measurements.
harness/reference.py holds the plain nn.Module + autograd + optim.SGD loop
that tests/test_gradients.py checks this sampler against.

`start_gradients` takes no step: the gradients at the start point itself, of
one batch (F4's "step" reading) and of every batch of the trial (the gradient
noise scale's ingredients), from one forward and backward pass of the trial's
samples and their Gram matrices.
"""
import functools

import torch

BATCH_SIZES = tuple(range(1, 9)) + tuple(2 ** k for k in range(4, 11))  # 1..8, then 16..1024
N_SAMPLES = 1024
LR = 0.01
TRIAL_SEED_BASE = 1_000_000_007
BLOCK = 64         # samples per block of delayed updates (see sample_trials)
READINGS = ("sum", "mean", "sum-drop", "mean-drop")  # what sample_trials returns per batch size


def draw(trial: int, pool: int, n: int = N_SAMPLES) -> torch.Tensor:
    """Indices of trial `trial`'s samples into a pool of `pool` images."""
    g = torch.Generator().manual_seed(TRIAL_SEED_BASE + trial)
    return torch.randperm(pool, generator=g)[:n]


PACK_B = (2, 32)   # float32 batch sizes B in [2, 32) use oneDNN's prepacked linear (see _pack)
PACK_BLOCK = 256   # ... and longer blocks: fewer repacks


@functools.lru_cache(maxsize=None)
def _packing_works() -> bool:
    """oneDNN's prepacked linear exists in this build and gives the right answer
    (checked once on a small product); otherwise the sampler uses bmm."""
    try:
        if not (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")):
            return False
        g = torch.Generator().manual_seed(0)
        W, a = torch.randn(24, 40, generator=g), torch.randn(3, 40, generator=g)
        got = _linear(a.unsqueeze(0), _pack(W, 3))[0]
        return bool(torch.allclose(got, a @ W.t(), rtol=1e-4, atol=1e-4))
    except Exception:  # noqa: BLE001 - any failure means: do not use it
        return False


def _packed_ok(dtype) -> bool:
    return dtype == torch.float32 and _packing_works()


def _pack(W, b):
    """W (out, in) prepacked by oneDNN for inputs of b rows. For a few rows
    MKL's sgemm reads W once per row (a 4-row product costs 3x a 1-row one);
    oneDNN's prepacked kernel is 2-3x faster at b = 4 to 16. Packing costs
    about 0.4 ms (plus 0.5 ms for the transposed copy), once per block."""
    return torch.ops.mkldnn._reorder_linear_weight(W.contiguous(), b)


def _linear(a, Wp):
    """a (1, b, in) @ W.T with W packed by _pack: (1, b, out)."""
    return torch.ops.mkldnn._linear_pointwise(a[0], Wp, None, "none", [], "").unsqueeze(0)


def sample_trials(start, xs, ys, batch_sizes=BATCH_SIZES, lr=LR, block=BLOCK, packed=None):
    """Run the trials stacked in xs (T, n, 784) / ys (T, n) from `start`
    ([W1, b1, W2, b2, W3, b3]). Returns {B: {reading: (T, 10, 1024) tensor}}
    for the four readings "sum", "mean", "sum-drop", "mean-drop" (harness/
    gradients.py; the drop readings equal the others when B divides n).

    Blocked ("delayed") updates: the samples are taken in blocks of about
    `block` samples (whole batches). Inside a block, the updates of the
    block's earlier steps enter as short low-rank corrections (Gram products
    over at most `block` samples); at the block's end they are folded, with one
    GEMM each, into layer 2's explicit weights (W2 | b2, per trial) and into
    the first layer's pre-activations of every later sample (P1)."""
    if packed is None:
        packed = _packed_ok(xs.dtype)
    if packed and len(xs) > 1:  # the packed path steps one trial at a time
        parts = [sample_trials(start, xs[t:t + 1], ys[t:t + 1], batch_sizes, lr, block, True) for t in range(len(xs))]
        return {B: {r: torch.cat([p[B][r] for p in parts]) for r in parts[0][B]} for B in batch_sizes}
    W1, b1, W2, b2, W3, b3 = start
    T, n, _ = xs.shape
    dt = xs.dtype
    H = W1.shape[0]
    P1 = torch.addmm(b1, xs.reshape(T * n, -1), W1.t()).reshape(T, n, H)
    G = torch.bmm(xs, xs.transpose(1, 2)).add_(1.0)  # the +1 carries the bias update
    Y = torch.zeros(T, n, W3.shape[0], dtype=dt).scatter_(2, ys.unsqueeze(2), 1.0)  # one-hot labels
    W2a = torch.cat([W2, b2.unsqueeze(1)], 1)  # (H, H + 1): the bias as a last column
    out = {}
    for B in batch_sizes:
        use_pack = packed and PACK_B[0] <= B < PACK_B[1]
        blk = max(block, PACK_BLOCK) if use_pack else block
        K = min(B * max(1, -(-blk // B)), n)  # block length in samples, whole batches
        P1c = P1.clone()                          # z1 of every sample under the folded W1
        W2c = W2a.expand(T, -1, -1).clone()       # folded [W2 | b2]
        W2v = W2c[:, :, :H]
        w3 = W3.expand(T, -1, -1).clone()
        c3 = b3.expand(T, 1, -1).clone()
        Ab = torch.ones(T, K, H + 1, dtype=dt)   # [h1, 1] of the block's samples
        Eb = torch.empty(T, K, H, dtype=dt)      # d(loss)/d(z2) of the block's samples
        Db = torch.empty(T, K, H, dtype=dt)      # d(loss)/d(z1) of the block's samples
        gsum = torch.zeros(T, *W3.shape, dtype=dt)
        repack = use_pack
        res = {}
        for i in range(0, n, B):
            e = min(i + B, n)
            b = e - i
            last = e == n
            k0 = i - i % K
            j = i - k0
            if b < B:  # the short last batch: "drop" stops before it
                res["sum-drop"], res["mean-drop"] = gsum.clone(), gsum * B / i
            ha = Ab[:, j:j + b]
            h1 = ha[:, :, :H]
            if j == 0:
                torch.clamp(P1c[:, i:e], min=0, out=h1)
            else:  # layer 1: W1 = W1_fold - lr sum_s D1_s x_s^T, so z1 = P1c - lr G[t, s] D1_s
                torch.clamp(torch.baddbmm(P1c[:, i:e], G[:, i:e, k0:i], Db[:, :j], alpha=-lr), min=0, out=h1)
            if repack:  # W2c changed (a fold) or first use: pack it for both products
                Pf, Pb = _pack(W2c[0], B), _pack(W2v[0].t(), B)
                repack = False
            z2 = _linear(ha, Pf) if use_pack else torch.bmm(ha, W2c.transpose(1, 2))
            if j > 0:  # layer 2: [W2 | b2] = W2c - lr sum_s E_s [h1_s, 1]^T
                z2.baddbmm_(torch.bmm(ha, Ab[:, :j].transpose(1, 2)), Eb[:, :j], alpha=-lr)
            h2 = z2.clamp_(min=0)
            z = torch.baddbmm(c3, h2, w3.transpose(1, 2))
            dz = torch.softmax(z, dim=2).sub_(Y[:, i:e]).div_(b)
            # (T, 10, H): this step's W3 gradient (an outer product when b = 1)
            g3 = dz.transpose(1, 2) * h2 if b == 1 else torch.bmm(dz.transpose(1, 2), h2)
            if last:
                res["sum"] = gsum + g3
                res["mean"] = (gsum * B + g3 * b) / n
                break
            gsum += g3
            dh2 = Eb[:, j:j + b]
            torch.mul(torch.bmm(dz, w3), h2 > 0, out=dh2)
            w3.sub_(g3, alpha=lr)
            c3.sub_(dz.sum(1, keepdim=True), alpha=lr)
            dh1 = _linear(dh2, Pb) if use_pack else torch.bmm(dh2, W2v)
            if j > 0:
                dh1.baddbmm_(torch.bmm(dh2, Eb[:, :j].transpose(1, 2)), Ab[:, :j, :H], alpha=-lr)
            torch.mul(dh1, h1 > 0, out=Db[:, j:j + b])
            if j + b == K:  # the block's end: fold its updates
                W2c.baddbmm_(Eb.transpose(1, 2), Ab, alpha=-lr)
                P1c[:, e:].baddbmm_(G[:, e:, k0:e], Db, alpha=-lr)
                repack = use_pack
        res.setdefault("sum-drop", res["sum"])
        res.setdefault("mean-drop", res["mean"])
        out[B] = res
    return out


def _forward(start, xs):
    """The MLP at the start point on trials xs (T, n, 784): (h1, h2, logits)."""
    W1, b1, W2, b2, W3, b3 = start
    T = len(xs)
    h1 = torch.baddbmm(b1, xs, W1.t().expand(T, -1, -1)).clamp_(min=0)
    h2 = torch.baddbmm(b2, h1, W2.t().expand(T, -1, -1)).clamp_(min=0)
    return h1, h2, torch.baddbmm(b3, h2, W3.t().expand(T, -1, -1))


def start_loss(start, xs, ys):
    """The mean cross-entropy of each trial's samples at the start point: (T,)
    float64 (the noise scale is read against the loss, which it grows as it falls)."""
    z = _forward(start, xs)[2].double()
    return -torch.log_softmax(z, dim=2).gather(2, ys.unsqueeze(2)).squeeze(2).mean(1)


def _per_sample_backward(start, xs, ys):
    """One forward and backward pass at the start point, no update: per sample,
    each layer's input with a 1 appended (so a bias is one more weight column)
    and the summed loss's gradient w.r.t. the layer's pre-activation.
    Returns [(A1, D1), (A2, D2), (A3, D3)], each (T, n, in + 1) and (T, n, out)."""
    _, _, W2, _, W3, _ = start
    T, n, _ = xs.shape
    one = torch.ones(T, n, 1, dtype=xs.dtype)
    h1, h2, z = _forward(start, xs)
    d3 = torch.softmax(z, dim=2).scatter_add_(2, ys.unsqueeze(2), -one)  # softmax - one-hot: summed loss
    d2 = torch.bmm(d3, W3.expand(T, -1, -1)).mul_(h2 > 0)
    d1 = torch.bmm(d2, W2.expand(T, -1, -1)).mul_(h1 > 0)
    return [(torch.cat([a, one], 2), d) for a, d in ((xs, d1), (h1, d2), (h2, d3))]


def _gram(a):
    return torch.bmm(a, a.transpose(1, 2))


def _batch_mean_sq(K, B):
    """K (T, n, n): K[i, j] = <g_i, g_j> of per-sample gradients. The mean over
    the n // B full batches of B consecutive samples of |batch-mean gradient|^2
    = sum of K over the batch's block / B^2. (T,) float64."""
    T, n, _ = K.shape
    m = n // B
    blocks = K[:, :m * B, :m * B].double().reshape(T, m, B, m, B).diagonal(dim1=1, dim2=3)  # (T, B, B, m)
    return blocks.sum((1, 2)).mean(1) / B ** 2


def start_gradients(start, xs, ys, batch_sizes=BATCH_SIZES):
    """The gradients at the start point, before any step, for trials xs (T, n,
    784), ys (T, n). Returns {B: {"step": (T, 10, H), "sq_W3": (T,), "sq_all": (T,)}}:
    - "step": the last layer's weight gradient of the summed (not averaged)
      cross-entropy over the trial's first B samples: the first SGD step of
      the trial at batch size B, times B;
    - "sq_W3", "sq_all": over the trial's n // B full batches of B consecutive
      samples (a short last batch left out), the mean squared norm of the
      batch-mean gradient, of the last layer's weights (the post's tensor) and
      of every parameter. Its expectation is |G|^2 + tr(Sigma) / B (sampling
      without replacement from a large pool), so two batch sizes give the
      two-batch estimates of |G|^2 and tr(Sigma) (McCandlish et al. 2018).
    Per-sample gradients are never formed: layer l's gradient of sample i is
    D_i A_i^T, so <g_i, g_j> = (D_i . D_j)(A_i . A_j), and a batch's squared
    norm is a block sum of that Gram matrix."""
    (a1, d1), (a2, d2), (a3, d3) = _per_sample_backward(start, xs, ys)
    h2 = a3[:, :, :-1]
    k_w3 = _gram(d3) * _gram(h2)
    k_all = k_w3 + _gram(d3) + _gram(d2) * _gram(a2) + _gram(d1) * _gram(a1)  # + _gram(d3): b3's term
    return {B: {"step": torch.bmm(d3[:, :B].transpose(1, 2), h2[:, :B]),
                "sq_W3": _batch_mean_sq(k_w3, B), "sq_all": _batch_mean_sq(k_all, B)} for B in batch_sizes}
