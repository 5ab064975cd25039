"""Colour mappings fitted from pixel pairs (source colour -> target colour), values in [0, 1].

``QuarticMapping`` is the seed's: per output channel nine terms, a quartic in the channel itself plus a quartic
in the mean of the other two channels' powers (27 parameters). ``ResidualMapping`` adds a smooth 17^3 grid of
offsets on top of that quartic, fitted by sparse regularised least squares: the quartic keeps global structure
(black-and-white looks, colours the template lacks) and the residual grid captures what a quartic cannot.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

# Imported here, not lazily: threadpoolctl (fit_look) only limits BLAS libraries already loaded when it is
# entered, and scipy.linalg's OpenBLAS threads made the first fit 2 s instead of ~0.1 s (measured).
from scipy.linalg import cho_factor, cho_solve

from ..errors import InputError
from ..luts.lut import Lut

N_TERMS = 9
# The other two channels of each output channel, in the seed's order.
_OTHERS = ((1, 2), (0, 2), (0, 1))


def quartic_features(x: np.ndarray, channel: int) -> np.ndarray:
    """Design matrix (n, 9) of the seed's quartic for output ``channel`` at colours ``x`` (n, 3)."""
    own = x[:, channel]
    a, b = x[:, _OTHERS[channel][0]], x[:, _OTHERS[channel][1]]
    f = np.empty((x.shape[0], N_TERMS), dtype=np.float64)
    f[:, 0] = 1.0
    p_own, p_a, p_b = np.ones_like(own), np.ones_like(a), np.ones_like(b)
    for k in range(1, 5):
        p_own = p_own * own
        p_a = p_a * a
        p_b = p_b * b
        f[:, k] = p_own
        f[:, 4 + k] = 0.5 * (p_a + p_b)
    return f


def identity_coefs() -> np.ndarray:
    c = np.zeros((3, N_TERMS))
    c[:, 1] = 1.0
    return c


class QuarticMapping:
    """The seed's 27-parameter mapping. ``coefs`` is (3, 9): per output channel k1..k9."""

    kind = "seed"

    def __init__(self, coefs: np.ndarray):
        self.coefs = np.asarray(coefs, dtype=np.float64).reshape(3, N_TERMS)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        flat = x.reshape(-1, 3)
        out = np.empty_like(flat)
        for c in range(3):
            out[:, c] = quartic_features(flat, c) @ self.coefs[c]
        return out.reshape(x.shape)

    @classmethod
    def fit(cls, src: np.ndarray, dst: np.ndarray, *, solver: str = "lstsq", ridge: float = 1e-7) -> QuarticMapping:
        """Least-squares fit from (n, 3) source colours to (n, 3) targets.

        ``ridge`` (relative to n) pulls the parameters toward the identity mapping, so directions the samples
        do not determine (a flat or monochrome template) stay as they are instead of taking arbitrary values.
        ``solver`` is ``"lstsq"`` (SVD on the ridge-augmented system) or ``"lbfgs"`` (scipy L-BFGS-B).
        """
        src, dst = _check_pairs(src, dst)
        n = src.shape[0]
        lam = np.sqrt(ridge * n)
        ident = identity_coefs()
        coefs = np.empty((3, N_TERMS))
        for c in range(3):
            X = quartic_features(src, c)
            y = dst[:, c]
            if solver == "lstsq":
                A = np.vstack([X, lam * np.eye(N_TERMS)])
                b = np.concatenate([y, lam * ident[c]])
                coefs[c] = np.linalg.lstsq(A, b, rcond=None)[0]
            elif solver == "lbfgs":
                coefs[c] = _lbfgs(X, y, lam**2, ident[c])
            else:
                raise InputError(f"solver must be 'lstsq' or 'lbfgs', got {solver!r}")
        return cls(coefs)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "coefs": self.coefs}


def _lbfgs(X, y, lam2, prior):
    from scipy.optimize import minimize

    def fun(beta):
        r = X @ beta - y
        d = beta - prior
        return r @ r + lam2 * (d @ d), 2 * (X.T @ r) + 2 * lam2 * d

    res = minimize(fun, prior.copy(), jac=True, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-10})
    return res.x


def _check_pairs(src, dst):
    src = np.asarray(src, dtype=np.float64).reshape(-1, 3)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 3)
    if src.shape != dst.shape:
        raise InputError(f"source and target samples differ in shape: {src.shape} vs {dst.shape}")
    if src.shape[0] < N_TERMS:
        raise InputError(f"need at least {N_TERMS} sample pairs, got {src.shape[0]}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise InputError("samples contain NaN or infinite values")
    return src, dst


# --- the smooth residual grid -------------------------------------------------------------------------------

def trilinear_weights(x: np.ndarray, g: int) -> sp.csr_matrix:
    """Sparse (n, g^3) matrix whose rows interpolate a g^3 grid ([r, g, b] C order) at colours ``x``."""
    n = x.shape[0]
    t = np.clip(x, 0.0, 1.0) * (g - 1)
    i0 = np.minimum(t.astype(np.int64), g - 2)
    f = t - i0
    rows = np.repeat(np.arange(n), 8)
    cols = np.empty((n, 8), dtype=np.int64)
    vals = np.empty((n, 8))
    k = 0
    for dr in (0, 1):
        wr = f[:, 0] if dr else 1 - f[:, 0]
        for dg in (0, 1):
            wg = f[:, 1] if dg else 1 - f[:, 1]
            for db in (0, 1):
                wb = f[:, 2] if db else 1 - f[:, 2]
                cols[:, k] = ((i0[:, 0] + dr) * g + (i0[:, 1] + dg)) * g + (i0[:, 2] + db)
                vals[:, k] = wr * wg * wb
                k += 1
    return sp.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(n, g**3))


@functools.lru_cache(maxsize=4)
def _laplacian_penalty(g: int) -> sp.csr_matrix:
    """L^T L for the 3D second-difference operator on a g^3 grid (one-sided at the faces)."""
    d1 = sp.diags([np.ones(g - 1), -2 * np.ones(g), np.ones(g - 1)], [-1, 0, 1], format="lil")
    d1[0, :2] = [0, 0]  # no curvature term at the faces: offsets extrapolate linearly there
    d1[g - 1, g - 2:] = [0, 0]
    d1 = d1.tocsr()
    eye = sp.identity(g, format="csr")
    lap = sp.kron(sp.kron(d1, eye), eye) + sp.kron(sp.kron(eye, d1), eye) + sp.kron(sp.kron(eye, eye), d1)
    return (lap.T @ lap).tocsc()


@functools.lru_cache(maxsize=8)
def _two_level(grid: int, smooth: float, damping: float, scale: float):
    """The data-independent parts of the two-level solver: prolongation P (coarse -> fine) and the penalties."""
    coarse = (grid + 1) // 2  # nested grids: every other fine node is a coarse node
    t = np.linspace(0, coarse - 1, grid)
    i0 = np.minimum(t.astype(np.int64), coarse - 2)
    f = t - i0
    idx = np.arange(grid)
    p1 = sp.csr_matrix((np.r_[1 - f, f], (np.r_[idx, idx], np.r_[i0, i0 + 1])), shape=(grid, coarse))
    P = sp.kron(sp.kron(p1, p1), p1).tocsr()
    R = ((smooth * scale) * _laplacian_penalty(grid) + (damping * scale) * sp.identity(grid**3)).tocsr()
    Rc = (P.T @ R @ P).toarray()
    return P, R, Rc, coarse


def _solve_smooth_grid(src, resid, grid, smooth, damping, tol=1e-5, maxiter=300):
    """Offsets (grid^3, 3) minimising |A r - e|^2 + penalties, by conjugate gradients.

    A sparse direct solve of this 5k-node system takes 300-800 ms here (fill-in); CG preconditioned with Jacobi
    plus an exact solve on the nested coarse grid ((grid+1)/2)^3 converges in ~25 iterations, ~50 ms.
    """
    n = src.shape[0]
    scale = n / grid**3  # the penalties are per node, the data term per sample
    P, R, Rc, coarse = _two_level(grid, float(smooth), float(damping), float(scale))
    A = trilinear_weights(src, grid)
    M = (A.T @ A).tocsr() + R
    Ac = trilinear_weights(src, coarse)  # equals A @ P exactly on nested grids
    cf = cho_factor((Ac.T @ Ac).toarray() + Rc)
    dinv = 1.0 / M.diagonal()

    def precond(r):
        return r * dinv[:, None] + P @ cho_solve(cf, P.T @ r)

    b = A.T @ resid
    x = P @ cho_solve(cf, Ac.T @ resid)
    r = b - M @ x
    z = precond(r)
    d = z.copy()
    rz = (r * z).sum(0)
    bnorm = np.sqrt((b * b).sum(0)) + 1e-30
    for _ in range(maxiter):
        if (np.sqrt((r * r).sum(0)) / bnorm).max() < tol:
            break
        q = M @ d
        alpha = rz / np.maximum((d * q).sum(0), 1e-300)
        x += d * alpha
        r -= q * alpha
        z = precond(r)
        rz_new = (r * z).sum(0)
        d = z + d * (rz_new / np.maximum(rz, 1e-300))
        rz = rz_new
    return x


class ResidualMapping:
    """A quartic base plus a smooth residual grid of offsets, evaluated trilinearly."""

    kind = "residual"

    def __init__(self, base: QuarticMapping, offsets: np.ndarray):
        self.base = base
        self.offsets = np.asarray(offsets, dtype=np.float64)
        g = self.offsets.shape[0]
        if self.offsets.shape != (g, g, g, 3):
            raise InputError(f"expected residual offsets of shape (G, G, G, 3), got {self.offsets.shape}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        flat = x.reshape(-1, 3)
        g = self.offsets.shape[0]
        out = self.base(flat) + trilinear_weights(flat, g) @ self.offsets.reshape(-1, 3)
        return out.reshape(x.shape)

    @classmethod
    def fit(cls, src, dst, *, grid: int = 17, smooth: float = 0.01, damping: float = 1e-6,
            solver: str = "lstsq", ridge: float = 1e-7) -> ResidualMapping:
        """Fit the quartic, then offsets minimising |A r - e|^2 + smooth*n|L r|^2 + damping*n|r|^2.

        ``e`` is what the quartic leaves; the Laplacian term makes the grid smooth and the damping term lets it
        fade to zero (pure quartic) far from any sample. Both weights scale with the sample count ``n`` so the
        look does not change with N.
        """
        src, dst = _check_pairs(src, dst)
        base = QuarticMapping.fit(src, dst, solver=solver, ridge=ridge)
        resid = dst - base(src)
        offsets = _solve_smooth_grid(src, resid, grid, smooth, damping)
        return cls(base, offsets.reshape(grid, grid, grid, 3))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "coefs": self.base.coefs, "offsets": self.offsets}


MAPPINGS = {"seed": QuarticMapping, "residual": ResidualMapping}


def fit_mapping(src, dst, kind: str = "residual", **kwargs):
    """Fit a mapping of ``kind`` ("seed" or "residual") from (n, 3) source colours to targets."""
    try:
        cls = MAPPINGS[kind]
    except KeyError:
        raise InputError(f"mapping must be one of {sorted(MAPPINGS)}, got {kind!r}") from None
    return cls.fit(src, dst, **kwargs)


class TableMapping:
    """A look given as a small (G, G, G, 3) table over the colour cube (the Lut layout, [r, g, b]), evaluated
    trilinearly: the look prior's predicted look (livefilter.look.prior)."""

    kind = "table"

    def __init__(self, table: np.ndarray):
        self.table = np.asarray(table, dtype=np.float32)
        self._lut = Lut(self.table)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return self._lut.apply_float(x.reshape(-1, 3)).reshape(x.shape)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "table": self.table}


def mapping_from_dict(d: dict):
    kind = str(d["kind"])
    if kind == "seed":
        return QuarticMapping(d["coefs"])
    if kind == "residual":
        return ResidualMapping(QuarticMapping(d["coefs"]), d["offsets"])
    if kind == "table":
        return TableMapping(d["table"])
    raise InputError(f"unknown mapping kind {kind!r}")
