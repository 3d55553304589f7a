"""Hostile files and the command line (issue 16: items 7, 8, 11, 15 and the model file).

Crafted and damaged model files (a pickle payload under a ``.skevonas``
name, tampered JSON, absurd shapes and header lengths, wrong dtypes,
truncated data), a data archive that claims terabytes, reordered CSV
columns, a second search over an earlier one's checkpoint. None of them
runs code (the payloads would create a marker file), allocates what it
claims, or goes wrong silently: each gets a clear error, or the right
answer.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from skevonas import Genome, GenomeClassifier, LayerGene, ModelFileError, load, save
from skevonas.cli.commands import main
from skevonas.store.checkpoint import JOURNAL_FILE, STATE_FILE

TINY = ["--population-size", "2", "--n-generations", "1", "--max-epochs", "1"]
TINY += ["--patience", "1", "--n-jobs", "1", "--quiet"]
MLP = Genome(
    "mlp",
    [LayerGene("dense", {"units": 8, "activation": "relu"})],
    {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
)


class Payload:
    """Unpickling it creates ``marker``: proof that a loader ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


# --------------------------------------------------------------------------- crafting
@pytest.fixture(scope="module")
def model(blobs, tmp_path_factory):
    """A saved GenomeClassifier: (its file, the estimator, X)."""
    X, y = blobs
    clf = GenomeClassifier(MLP, max_epochs=1, validation_fraction=None, random_state=0)
    clf.fit(X, y)
    return save(clf, tmp_path_factory.mktemp("model") / "good.skevonas"), clf, X


def split(path):
    """(tensor table, document, data bytes) of a model file."""
    raw = Path(path).read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    document = json.loads(header["__metadata__"]["skevonas"])
    return header, document, raw[8 + n :]


def join(path, header, document, data):
    """Write a model file from its parts (the document goes into the metadata)."""
    header = dict(header)
    header["__metadata__"] = {"format": "pt", "skevonas": json.dumps(document)}
    text = json.dumps(header).encode()
    Path(path).write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


def tampered(model, tmp_path, edit_document=None, edit_header=None, data=None):
    """A copy of the good model file with its document and/or tensor table edited."""
    header, document, good_data = split(model[0])
    if edit_document:
        edit_document(document)
    if edit_header:
        edit_header(header)
    return join(
        tmp_path / "tampered.skevonas", header, document, good_data if data is None else data
    )


def test_the_untampered_copy_loads(model, tmp_path):
    path, clf, X = model
    copy = tampered(model, tmp_path)
    np.testing.assert_array_equal(load(copy).predict_proba(X), clf.predict_proba(X))


# --------------------------------------------------------------------------- not a model file
def test_a_pickle_payload_named_skevonas_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.skevonas"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        load(path)
    joblib_path = tmp_path / "model.joblib"
    joblib.dump(Payload(marker), joblib_path)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    for model_path in (path, joblib_path, tmp_path):  # the folder: model.joblib is found
        assert main(["predict", str(model_path), str(data)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("skevonas: error:") and "--allow-pickle" in err, err
        assert "a pickle can run any code" in err
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a safetensors file"),
        (b"\x00" * 100, "not a safetensors file"),
        ((2**62).to_bytes(8, "little") + b"{}", "the header claims 4611686018427387904 bytes"),
        ((1000).to_bytes(8, "little") + b'{"a": 1}', "is truncated: the header claims 1000"),
        ((9).to_bytes(8, "little") + b"{\xff\xfe 12345", "the header is not valid JSON"),
        ((6).to_bytes(8, "little") + b"[1, 2]", "not a safetensors file"),
        ((2).to_bytes(8, "little") + b"{}", "has no skevonas metadata"),
    ],
    ids=["empty", "zeros", "absurd-header", "short-header", "binary-header", "list", "bare"],
)
def test_files_that_are_not_model_files(content, message, tmp_path):
    path = tmp_path / "model.skevonas"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_a_deeply_nested_document_is_an_error_not_a_crash(model, tmp_path):
    header, _, data = split(model[0])
    header["__metadata__"] = {"skevonas": "[" * 100_000 + "]" * 100_000}
    text = json.dumps(header).encode()
    path = tmp_path / "deep.skevonas"
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(path)


def test_a_safetensors_file_of_someone_else(tmp_path):
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt", "author": "x"})
    with pytest.raises(ModelFileError, match="not a skevonas model file"):
        load(path)


# --------------------------------------------------------------------------- tampered JSON
def _set(key, value):
    def edit(document):
        document[key] = value

    return edit


def _set_attribute(key, value):
    def edit(document):
        document["attributes"][key] = value

    return edit


def _set_param(key, value):
    def edit(document):
        document["params"][key] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set("format", "pickle"), "not a skevonas model file: format 'pickle'"),
        (_set("format_version", 2), "has format version 2; this skevonas"),
        (_set("format_version", True), "has format version True"),
        (_set("estimator", "os.system"), "'estimator' must be one of"),
        (_set("estimator", "EvolutionaryNASClassifier"), "'attributes' must be an object"),
        (_set("sample_shape", "4"), "'sample_shape' must be a list of 1 to 3 ints"),
        (_set("sample_shape", [4, 0]), "'sample_shape' must be a list of 1 to 3 ints"),
        (_set("n_features_in", 5), "'n_features_in' must be an int equal to sample_shape"),
        (_set("feature_names_in", ["a", "a", "b", "c"]), "'feature_names_in' must be null"),
        (_set("classes", [0, 1, 2]), "'classes' must be an object"),
        (_set("classes", {"dtype": "<i8", "values": ["a", "b"]}), "matching their dtype"),
        (_set("classes", {"dtype": "|O", "values": [[1], [2]]}), "matching their dtype"),
        (_set("classes", {"dtype": "<M8[s]", "values": [1, 2]}), "matching their dtype"),
        (_set("classes", {"dtype": "|u1", "values": [1, 300]}), "do not fit their dtype"),
        (_set("classes", {"dtype": "<i8", "values": [1, 1]}), "not distinct"),
        (_set("classes", {"dtype": "nonsense", "values": [1, 2]}), "unknown dtype"),
        (_set("standardize_layer", "yes"), "'standardize_layer' must be true or false"),
        (_set("extra", 1), r"has unknown keys \['extra'\]"),
        (lambda d: d.pop("genome"), r"lacks the keys \['genome'\]"),
        (_set_attribute("best_epoch_", "1; rm -rf /"), "'best_epoch_' has a value of the wrong"),
        (_set_param("module", "os.system"), "parameters GenomeClassifier does not take"),
        (_set_param("net_params", {"batch_size": -1}), "values prediction cannot use"),
        (_set_param("net_params", {"predict_nonlinearity": "os.system"}), "cannot use"),
        (_set("genome", {"family": "mlp"}), "the stored genome is not valid"),
        (_set("genome", MLP.to_dict() | {"family": "cnn2d"}), "'cnn2d' genome cannot take"),
        (_set("genome", "mlp"), "'genome' must be an object"),
        (
            _set("genome", {**MLP.to_dict(), "globals": {"optimizer": "os.system"}}),
            "network cannot be set up",
        ),
        (_set("genome", {**MLP.to_dict(), "layers": [{"kind": "identity"}] * 2000}), "2000 layers"),
    ],
)
def test_tampered_documents_are_refused(model, tmp_path, edit, message):
    with pytest.raises(ModelFileError, match=message):
        load(tampered(model, tmp_path, edit_document=edit))


def test_stored_net_params_reach_skorch_only_for_prediction(model, tmp_path):
    path, clf, X = model
    crafted = {"compile": True, "module": "os.system", "iterator_valid__batch_size": 7}
    loaded = load(tampered(model, tmp_path, edit_document=_set_param("net_params", crafted)))
    assert loaded.net_params == crafted  # the estimator's setting, as stored
    assert loaded.net_.iterator_valid__batch_size == 7
    assert loaded.net_.compile is False
    # batches of 7, not 256: the same up to float32 rounding
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-5)


# --------------------------------------------------------------------------- tensors
def _huge_layer(document):
    document["genome"]["layers"][0]["params"]["units"] = 10**7


def test_a_huge_layer_needs_its_weights_in_the_file(model, tmp_path):
    # A genome with a 10^7-unit layer, the file's weights left as they were:
    # refused on the meta device, before anything of that size exists.
    with pytest.raises(ModelFileError, match=r"has shape \[8, 4\], the network needs \[10000000"):
        load(tampered(model, tmp_path, edit_document=_huge_layer))


def test_tensors_declared_larger_than_the_file(model, tmp_path):
    # The tensor table declares the 10^7-unit weights too, but the bytes are
    # not there: the size check refuses it before anything is allocated.
    def declare(header):
        header["dense_0.weight"] = {
            "dtype": "F32",
            "shape": [10**7, 4],
            "data_offsets": [0, 16 * 10**7],
        }

    with pytest.raises(ModelFileError, match="is truncated"):
        load(tampered(model, tmp_path, edit_document=_huge_layer, edit_header=declare))


def test_absurd_sample_shape_allocates_nothing(model, tmp_path):
    def absurd(document):
        document["sample_shape"] = [10**12]
        document["n_features_in"] = 10**12
        document["feature_names_in"] = None

    with pytest.raises(ModelFileError, match="need input statistics of 1000000000000 values"):
        load(tampered(model, tmp_path, edit_document=absurd))


def _entry(name, **change):
    def edit(header):
        header[name] = {**header[name], **change}

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h.pop("output.bias"), r"missing tensors \['output.bias'\]"),
        (
            lambda h: h.update(backdoor={"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}),
            r"tensors the network does not have \['backdoor'\]",
        ),
        (_entry("output.bias", shape=[1, 3]), "'output.bias' has shape"),
        (_entry("output.bias", dtype="I32"), "'output.bias' has dtype I32, the network needs F32"),
        (_entry("output.bias", dtype="F64"), "needs 24 bytes, but its byte range"),
        (_entry("output.bias", dtype="PICKLE"), "'output.bias' is malformed"),
        (_entry("output.bias", shape=[-3]), "'output.bias' is malformed"),
        (_entry("output.bias", data_offsets=[10, 2]), "its byte range"),
    ],
    ids=["missing", "extra", "shape", "dtype", "dtype-size", "unknown-dtype", "negative", "range"],
)
def test_tensor_table_tampering_is_refused(model, tmp_path, edit, message):
    with pytest.raises(ModelFileError, match=message):
        load(tampered(model, tmp_path, edit_header=edit))


def test_a_truncated_file_is_refused(model, tmp_path):
    raw = model[0].read_bytes()
    for size in (len(raw) - 1, len(raw) // 2, 20):
        path = tmp_path / f"cut{size}.skevonas"
        path.write_bytes(raw[:size])
        with pytest.raises(ModelFileError, match="truncated"):
            load(path)
    path.write_bytes(raw + b"\x00" * 8)
    with pytest.raises(ModelFileError, match="has bytes no tensor accounts for"):
        load(path)


def test_the_cli_reports_a_crafted_model_file(model, tmp_path, capsys):
    path = tampered(model, tmp_path, edit_document=_huge_layer)
    data = tmp_path / "data.csv"
    data.write_text("a,b,c,d\n1,2,3,4\n")
    for extra in ([], ["--allow-pickle"]):  # a damaged model file is never tried as a pickle
        assert main(["predict", str(path), str(data), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("skevonas: error:") and "do not fit the stored genome" in err


# --------------------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    data = load_iris()
    folder = tmp_path_factory.mktemp("iris")
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    path = folder / "iris.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*names, "species"])
        for x, target in zip(data.data, data.target, strict=True):
            writer.writerow([*x, data.target_names[target]])
    return path


@pytest.fixture(scope="module")
def interrupted(iris_csv, tmp_path_factory):
    """A finished search with its checkpoint in its output folder, then trimmed to the
    checkpoint only, as after a crash: the folder."""
    folder = tmp_path_factory.mktemp("run") / "out"
    argv = ["search", str(iris_csv), "--label-column", "species", *TINY]
    assert main([*argv, "--output", str(folder), "--checkpoint-dir", str(folder)]) == 0
    for path in folder.iterdir():
        if path.name not in (STATE_FILE, JOURNAL_FILE):
            path.unlink()
    return folder


@pytest.fixture(scope="module")
def iris_model(iris_csv, tmp_path_factory):
    """The output folder of a tiny search on the CSV file."""
    folder = tmp_path_factory.mktemp("model") / "out"
    assert (
        main(["search", str(iris_csv), "--label-column", "species", *TINY, "--output", str(folder)])
        == 0
    )
    return folder


def test_search_writes_a_model_file_without_pickle(iris_model, iris_csv):
    path = iris_model / "model.skevonas"
    assert not (iris_model / "model.joblib").exists()
    raw = path.read_bytes()
    assert raw[8:9] == b"{" and b"\x80\x04\x95" not in raw[:64]  # safetensors, no pickle
    model = load(path)
    assert model.feature_names_in_.tolist() == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
    ]
    summary = json.loads((iris_model / "summary.json").read_text())
    assert summary["files"][0] == "model.skevonas"
    assert summary["data"]["feature_names"] == model.feature_names_in_.tolist()


def _write_columns(source, target, columns):
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_predict_matches_csv_columns_by_name(iris_model, iris_csv, tmp_path, capsys):
    # Issue 16, item 7: the same columns in another order must give the same
    # predictions (they gave 0.33 accuracy instead of 0.95, silently).
    assert main(["predict", str(iris_model), str(iris_csv), "--label-column", "species"]) == 0
    expected, err = capsys.readouterr()
    assert "note: the columns" not in err
    accuracy = err.splitlines()[-1]
    assert accuracy.startswith("accuracy ") and float(accuracy.split()[1]) > 0.5
    columns = ["petal_width", "species", "sepal_width", "petal_length", "sepal_length"]
    shuffled = _write_columns(iris_csv, tmp_path / "shuffled.csv", columns)
    assert main(["predict", str(iris_model), str(shuffled), "--label-column", "species"]) == 0
    out, err = capsys.readouterr()
    assert out == expected
    assert "note: the columns of" in err and "matched by name" in err
    assert err.splitlines()[-1] == accuracy


def test_predict_refuses_other_column_names(iris_model, iris_csv, tmp_path, capsys):
    columns = ["petal_width", "sepal_width", "petal_length"]
    fewer = _write_columns(iris_csv, tmp_path / "fewer.csv", columns)
    assert main(["predict", str(iris_model), str(fewer)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skevonas: error: the columns of")
    assert "missing ['sepal_length']" in err
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(fewer.read_text().replace("petal_width", "petal_w", 1))
    assert main(["predict", str(iris_model), str(renamed)]) == 2
    err = capsys.readouterr().err
    assert "not features of the model ['petal_w']" in err
    assert "The model's features are ['sepal_length'" in err


def test_allow_pickle_reads_an_old_model_with_a_warning(iris_model, iris_csv, tmp_path, capsys):
    old = tmp_path / "old"
    old.mkdir()
    joblib.dump(load(iris_model / "model.skevonas"), old / "model.joblib")
    argv = ["predict", str(old), str(iris_csv), "--label-column", "species"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("skevonas: error:") and "pass --allow-pickle" in err
    assert main([*argv, "--allow-pickle"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("skevonas: warning: loading") and "a pickle can run any code" in err
    assert "skevonas.save(joblib.load(" in err
    assert len(out.splitlines()) == 151


def test_new_search_refuses_an_earlier_checkpoint(interrupted, iris_csv, tmp_path, capsys):
    # Issue 16, item 8: without --resume, an earlier search's checkpoint was
    # deleted with no word.
    checkpoint = tmp_path / "ck"
    shutil.copytree(interrupted, checkpoint)
    state = (checkpoint / STATE_FILE).read_bytes()
    argv = ["search", str(iris_csv), "--label-column", "species", *TINY]
    argv += ["--checkpoint-dir", str(checkpoint), "--output", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("skevonas: error: the checkpoint folder")
    assert "--resume" in err and "--overwrite" in err
    assert (checkpoint / STATE_FILE).read_bytes() == state
    assert not (tmp_path / "out").exists()
    (checkpoint / STATE_FILE).unlink()  # a crash in the first generation: only the journal
    assert main(argv) == 2
    assert (checkpoint / JOURNAL_FILE).exists()
    capsys.readouterr()


def test_overwrite_starts_a_new_search_over_a_checkpoint(interrupted, iris_csv, tmp_path):
    checkpoint = tmp_path / "ck"
    shutil.copytree(interrupted, checkpoint)
    argv = ["search", str(iris_csv), "--label-column", "species", *TINY, "--overwrite"]
    assert main([*argv, "--checkpoint-dir", str(checkpoint), "--output", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "model.skevonas").is_file()


def test_resume_into_the_output_folder_that_holds_the_checkpoint(
    interrupted, iris_csv, tmp_path, capsys
):
    # Issue 16, item 15: --output and --checkpoint-dir the same folder, after
    # a crash: resuming was refused without --overwrite.
    folder = tmp_path / "out"
    shutil.copytree(interrupted, folder)
    argv = ["search", str(iris_csv), "--label-column", "species", *TINY]
    argv += ["--n-generations", "2", "--resume"]
    assert main([*argv, "--output", str(folder), "--checkpoint-dir", str(folder)]) == 0
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_generations_run"] == 2
    capsys.readouterr()


def test_a_subcommand_usage_error_has_the_promised_prefix(capsys):
    # Issue 16, item 15: argparse printed "skevonas search: error:".
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "data.csv", "--population-size", "two"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "skevonas: error: search: argument --population-size: invalid int value" in err
    assert "skevonas search: error" not in err
    with pytest.raises(SystemExit):
        main(["predict"])
    assert (
        "skevonas: error: predict: the following arguments are required" in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "skevonas: error: argument COMMAND: invalid choice" in capsys.readouterr().err


def _npz_claiming(path, shape, dtype="<f8"):
    """An .npz whose X header claims ``shape`` but holds 64 bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    labels = io.BytesIO()
    np.save(labels, np.arange(4) % 2)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", header.getvalue() + b"\x00" * 64)
        archive.writestr("y.npy", labels.getvalue())
    return path


@pytest.mark.parametrize("shape", [(10**6, 10**6), (10**9, 4), (4, 3)])
def test_an_npz_claiming_an_absurd_shape_is_exit_2(shape, tmp_path, capsys):
    # Issue 16, item 15: exit 1 with a MemoryError traceback.
    path = _npz_claiming(tmp_path / "claims.npz", shape)
    for command in (["search", str(path)], ["predict", str(tmp_path), str(path)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        if command[0] == "search":
            assert err.startswith("skevonas: error: cannot read")
            assert f"claims shape {shape}" in err and "holds 64 bytes" in err
    assert not (tmp_path / "skevonas-search-claims").exists()


def test_an_npz_member_claiming_more_than_compression_allows(tmp_path, capsys):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, X=np.zeros((4, 3)), y=np.arange(4) % 2)
    raw = bytearray(path.read_bytes())
    # the central directory entry of X.npy: its uncompressed size is at offset 24
    at = next(
        i
        for i in range(len(raw))
        if raw[i : i + 4] == b"PK\x01\x02" and raw[i + 46 : i + 51] == b"X.npy"
    )
    raw[at + 24 : at + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    assert main(["search", str(path)]) == 2
    assert "more than compression allows" in capsys.readouterr().err
