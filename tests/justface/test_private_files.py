import pytest

from justface import private_files


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def test_round_trip_is_encrypted_on_disk(private_root):
    name = private_files.save("door_photo", b"\xff\xd8 a jpeg frame")
    on_disk = (private_root / name).read_bytes()
    assert b"a jpeg frame" not in on_disk and on_disk.startswith(b"gAAAAA")
    assert private_files.read(name) == b"\xff\xd8 a jpeg frame"
    assert private_files.delete(name) is True
    assert private_files.delete(name) is False and not private_files.exists(name)


@pytest.mark.parametrize("name", ["../outside.bin", "/etc/passwd", "door_photo/../../x"])
def test_names_cannot_escape_the_folder(name):
    with pytest.raises(ValueError):
        private_files.read(name)


def test_bad_category_is_refused():
    with pytest.raises(ValueError):
        private_files.save("../x", b"")
