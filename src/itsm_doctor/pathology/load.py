"""Load and validate the catalog; errors name the file and the field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from itsm_doctor.pathology.model import Dysfunction
from itsm_doctor.signs import SIGNS

__all__ = ["FOLLOWUP_SIGNS", "Catalog", "CatalogError", "load_catalog"]

# Measured across visits by the follow-up, not from one set of records; the catalog may
# use them (stagnant improvement), and they are n/a on a first visit.
FOLLOWUP_SIGNS = frozenset(
    {
        "followup.improved_share",  # share of the first visit's fair/poor signs that improved by ≥ 10 %
        "followup.register_done_share",  # adopted prescriptions completed
        "followup.maturity_gap",  # mean self-assessed minus evidenced maturity level
    }
)


class CatalogError(Exception):
    """A catalog file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Catalog:
    dysfunctions: tuple[Dysfunction, ...]

    def get(self, dysfunction_id: str) -> Dysfunction:
        for d in self.dysfunctions:
            if d.id == dysfunction_id:
                return d
        raise KeyError(dysfunction_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dysfunctions)

    @property
    def question_ids(self) -> frozenset[str]:
        ids = {s.question for d in self.dysfunctions for s in d.symptoms}
        ids |= {s.question for d in self.dysfunctions for c in d.causes for s in c.symptoms}
        return frozenset(ids)


def _load_file(path: Path, sign_ids: frozenset[str]) -> Dysfunction:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    try:
        d = Dysfunction.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise CatalogError(f"{path}: field {where}: {first['msg']}") from None
    if d.id != path.stem:
        raise CatalogError(f"{path}: field id: {d.id!r} must equal the file name {path.stem!r}")
    rules = [("signs", r.sign) for r in d.signs]
    rules += [(f"causes.{c.id}.signs", r.sign) for c in d.causes for r in c.signs]
    rules += [(f"prescriptions.{p.id}.moves", m.sign) for p in d.prescriptions for m in p.moves]
    rules += [(f"differential.{x.dysfunction}.telling_sign", x.telling_sign) for x in d.differential]
    for field, sign in rules:
        if sign not in sign_ids:
            raise CatalogError(f"{path}: field {field}: unknown sign {sign!r} (see `itsm-doctor catalog signs`)")
    causes = {c.id for c in d.causes}
    for p in d.prescriptions:
        if p.cause is not None and p.cause not in causes:
            raise CatalogError(f"{path}: field prescriptions.{p.id}.cause: unknown cause {p.cause!r}")
    return d


def load_catalog(folder: Path | None = None) -> Catalog:
    """The bundled catalog (or the one in ``folder``), validated."""
    if folder is None:
        return _bundled()
    return _load_folder(folder)


@cache
def _bundled() -> Catalog:
    return _load_folder(Path(str(resources.files("itsm_doctor.pathology") / "catalog")))


def _load_folder(folder: Path) -> Catalog:
    sign_ids = frozenset(s.id for s in SIGNS) | FOLLOWUP_SIGNS
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CatalogError(f"{folder}: no dysfunction file (*.yaml)")
    items = tuple(_load_file(p, sign_ids) for p in files)
    known = {d.id for d in items}
    for d in items:
        for x in d.differential:
            if x.dysfunction not in known:
                raise CatalogError(
                    f"{folder / (d.id + '.yaml')}: field differential: unknown dysfunction {x.dysfunction!r}"
                )
    return Catalog(dysfunctions=items)
