"""Small things with one home each: atomic writes, Chinese numerals."""

import pytest

from nianbao.acquire import discover
from nianbao.model import chinese
from nianbao.model.template import split_numbering
from nianbao.warehouse import storage


def test_write_atomic_replaces_whole_or_leaves_the_old_file(tmp_path):
    path = tmp_path / "d" / "f.csv"
    storage.write_atomic(path, lambda tmp: tmp.write_text("old"))
    with pytest.raises(RuntimeError):
        storage.write_atomic(path, lambda tmp: (tmp.write_text("half"), (_ for _ in ()).throw(RuntimeError())))
    assert path.read_text() == "old" and [p.name for p in path.parent.iterdir()] == ["f.csv"]
    assert storage.temporary(path) != storage.temporary(path)  # two threads never share one


def test_numerals_read_and_written_one_way():
    assert [chinese.numeral_value(t) for t in ("三", "十", "十二", "二十", "二十一", "7")] == [3, 10, 12, 20, 21, 7]
    assert [chinese.numeral(n) for n in (1, 10, 12, 20, 21)] == ["一", "十", "十二", "二十", "二十一"]
    assert split_numbering("（十二）其他") == ("(12)", "其他") and split_numbering("三、x") == ("3、", "x")
    assert [discover.year_of(t) for t in ("二〇二三年度报告", "二○二四年", "二零二二年", "某年")] == [
        2023,
        2024,
        2022,
        None,
    ]
