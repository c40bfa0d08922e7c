"""The article edit form (the page's side of article_create / article_update)."""

from django import forms

from .choices import Audience
from .models import Category


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}),
        required=False,
        max_length=200_000,
        help_text="Markdown. Raw HTML is reduced to a safe subset; scripts and styles are removed.",
    )
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False)
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.EVERYONE)
    note = forms.CharField(max_length=500, required=False, help_text="What changed (kept with the version)")
