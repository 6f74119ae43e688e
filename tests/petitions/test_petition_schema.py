"""Schema and housekeeping: the migration builds the petition tables, a unit with petitions
cannot be deleted, the photo is turned upright before its metadata goes."""
from __future__ import annotations

import io

import flask_migrate
import pytest
import sqlalchemy as sa
from PIL import Image

from survey_app.extensions import db
from survey_app.services.officials import tree
from survey_app.services.officials.scope import Scope
from survey_app.services.officials.units import create_unit
from survey_app.services.petitions import operations as service


def test_the_migration_creates_the_petition_tables(empty_app):
    flask_migrate.upgrade(revision="heads")
    inspector = sa.inspect(db.engine)
    assert {"petition", "petition_contact", "petition_photo", "petition_event"} <= set(inspector.get_table_names())
    uniques = {c["name"] for c in inspector.get_unique_constraints("petition")}
    assert {"uq_petition_tracking_code", "uq_petition_submission_key"} <= uniques


def test_a_unit_with_petitions_cannot_be_deleted(demo_app, place, file, h):
    counter = create_unit(db.session, place.p2, "quay-2", "one_stop", "Quầy số 2", "Counter 2", "p2quay2")
    db.session.commit()
    file(counter)
    scope = Scope.for_user(h.official("demo-manager"))
    with demo_app.test_request_context(), pytest.raises(tree.TreeError, match="phản ánh"):
        tree.delete(db.session, scope, counter, actor=h.official("demo-manager"))


def test_a_photo_is_turned_upright_by_its_exif_orientation():
    image = Image.new("RGB", (60, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    photo = service.process_photo(buffer.getvalue(), max_bytes=10**6, max_side=100)
    assert (photo.width, photo.height) == (20, 60)
