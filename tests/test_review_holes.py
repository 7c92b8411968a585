"""Review-workflow holes found by the third attack, each with the test that failed before its fix."""
from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan
from wizard.review import bundlecheck, state
from wizard.review import services as review


class BundleCheckRevealsNothingOfInvisiblePlansTests(BaseTestCase):
    """"Check a bundle" considers only plans the user can see: a stranger must get the same answer for a plan
    code that exists (but is not theirs) as for one that does not."""

    def _zip_claiming(self, code: str, number: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(state.APPROVAL_FILE, json.dumps({"plan_code": code, "revision": number}))
            archive.writestr("SHA256SUMS", "0" * 64 + "  x.ps1\n")
        return buffer.getvalue()

    def test_an_existing_invisible_revision_reads_like_a_missing_one(self):
        plan = make_plan(shared=False)
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        existing = bundlecheck.check_files(bundlecheck.files_from_zip(self._zip_claiming(str(plan.code), 1)),
                                           user=self.charlie)
        missing = bundlecheck.check_files(
            bundlecheck.files_from_zip(self._zip_claiming("00000000-0000-4000-8000-000000000000", 1)),
            user=self.charlie)
        self.assertFalse(existing.genuine)
        self.assertEqual(existing.summary, missing.summary)

    def test_the_page_answers_a_stranger_the_same_for_both(self):
        plan = make_plan(shared=False)
        review.save_revision(plan, draft_version=current_version(plan), by=self.alice, message="r1")
        self.client.force_login(self.charlie)
        url = reverse("check-bundle")
        answers = []
        for code in (str(plan.code), "00000000-0000-4000-8000-000000000000"):
            upload = io.BytesIO(self._zip_claiming(code, 1))
            upload.name = "bundle.zip"
            answers.append(self.client.post(url, {"file": upload}).context["verdict"].summary)
        self.assertEqual(answers[0], answers[1])
