import sys, glob, itertools, numpy as np, cv2
sys.path.insert(0, "/work/main")
N = 64
def thumb(rgb):
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (N, max(1, round(N * h / w))), interpolation=cv2.INTER_AREA).astype(np.float32)
def aligned(ta, tb, m=4):
    if ta.shape != tb.shape: return None
    h, w = ta.shape[:2]; best = 1e9
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            a = ta[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            b = tb[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            best = min(best, float(np.abs(a - b).mean()))
    return best
files = sorted(glob.glob("/work/shared/data/photos/*/*.jpg") + glob.glob("/work/shared/data/photos/*/*.png"))
imgs = [cv2.imread(f)[..., ::-1] for f in files]
print(len(imgs))
rng = np.random.default_rng(0)
# bursts: the photo and a copy moved by 1-4 % of its width and cropped back, with sensor noise and JPEG q85
bursts = []
for img in imgs[::4]:
    h, w = img.shape[:2]
    s = int(round(w * rng.uniform(0.01, 0.04))); t = int(round(h * rng.uniform(0.0, 0.03)))
    a = img[t:h - 0 or None, s:][: h - t - 4, : w - s - 4]; b = img[: h - t, : w - s][: h - t - 4, : w - s - 4]
    b = np.clip(b.astype(np.float32) * rng.uniform(0.95, 1.05) + rng.normal(0, 3, b.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", b, [cv2.IMWRITE_JPEG_QUALITY, 85]); b = cv2.imdecode(buf, 1)
    bursts.append(aligned(thumb(a), thumb(b)))
print("bursts: median %.2f p90 %.2f max %.2f" % tuple(np.percentile(bursts, [50, 90, 100])))
th = [thumb(i) for i in imgs]
d = []
import sys as _s
for i, j in itertools.combinations(range(len(th)), 2):
    if th[i].shape == th[j].shape:
        d.append((aligned(th[i], th[j], 2), i, j))
d.sort()
print("distinct pairs (same shape):", len(d), "smallest:", [(round(x, 2), files[i].split('/')[-2:], files[j].split('/')[-1]) for x, i, j in d[:6]])
def norm(t): return t - t.reshape(-1, 3).mean(0)
print("normalised, m=4:")
b2 = []
rng = np.random.default_rng(0)
for img in imgs[::4]:
    h, w = img.shape[:2]
    s = int(round(w * rng.uniform(0.01, 0.04))); t = int(round(h * rng.uniform(0.0, 0.03)))
    a = img[t:, s:][: h - t - 4, : w - s - 4]; b = img[: h - t, : w - s][: h - t - 4, : w - s - 4]
    b = np.clip(b.astype(np.float32) * rng.uniform(0.95, 1.05) + rng.normal(0, 3, b.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", b, [cv2.IMWRITE_JPEG_QUALITY, 85]); b = cv2.imdecode(buf, 1)
    b2.append(aligned(norm(thumb(a)), norm(thumb(b))))
print("bursts: median %.2f p90 %.2f max %.2f" % tuple(np.percentile(b2, [50, 90, 100])))
dd = sorted(aligned(norm(th[i]), norm(th[j]), 4) for _, i, j in d[:400])
print("distinct smallest", np.round(dd[:8], 2))
