"""The "Check a bundle" page: upload a bundle zip and learn whether it is the approved one."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wizard.review.bundlecheck import MAX_BYTES, NotABundle, check_files, files_from_zip


class BundleUploadForm(forms.Form):
    """A bundle zip as downloaded from a revision page (or from anywhere)."""

    file = forms.FileField(label="Bundle (.zip)", help_text="The zip you were given, exactly as you received it.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is far larger than a bundle.", code="too_large")
        return upload.read()


@login_required
def check_bundle(request: HttpRequest) -> HttpResponse:
    """Show the upload form (GET) or the verdict on an uploaded zip (POST)."""
    form = BundleUploadForm(request.POST, request.FILES) if request.method == "POST" else BundleUploadForm()
    verdict, problem = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            verdict = check_files(files_from_zip(form.cleaned_data["file"]), user=request.user)
        except NotABundle as exc:
            problem = f"This is not a bundle: {exc}."
    status = 400 if form.errors or problem else 200
    return render(request, "review/check_bundle.html", {"form": form, "verdict": verdict, "problem": problem},
                  status=status)
