"""Process definitions: versioned data per process key (draft → published → retired).

A case type names its process by key (`CaseType.process_key`); a case keeps the version it
started with (`Case.process_version`). Published versions never change: a change is a new
draft version, published in its turn. At most one version of a key is published.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ProcessDefinition(models.Model):
    key = models.SlugField(_("key"), max_length=50)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=ProcessStatus.choices, default=ProcessStatus.DRAFT)
    name_de = models.CharField(_("name (German)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    # The definition as the engine reads it (processes/engine/model.py describes the shape).
    definition = models.JSONField(_("definition"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    # Incremented on every change of a draft; the API's ETag and the editor's conflict check.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="process_key_version_unique"),
            models.UniqueConstraint(fields=["key"], condition=models.Q(status="published"), name="process_one_published_per_key"),
        ]
        verbose_name = _("process definition")
        verbose_name_plural = _("process definitions")

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def name(self, language: str) -> str:
        return self.name_de if language == "de" else self.name_en
