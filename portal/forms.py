"""Portal forms: short, friendly, with errors next to each field (rendered with components/form_field)."""

from django import forms

from core.limits import TEXT_MAX_LENGTH

URGENCY_CHOICES = [
    (1, "I cannot work at all"),
    (2, "I can work, but slowly"),
    (3, "It is an annoyance"),
]


class ReportProblemForm(forms.Form):
    short_description = forms.CharField(
        label="What is wrong?",
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. The VPN disconnects every few minutes", "autocomplete": "off"}
        ),
    )
    description = forms.CharField(
        label="Details",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What were you doing, what did you expect, any error message.",
    )
    urgency = forms.TypedChoiceField(
        label="How much does it affect you?",
        choices=URGENCY_CHOICES,
        coerce=int,
        initial=3,
        widget=forms.RadioSelect,
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachment = forms.FileField(
        label="Attach a file", required=False, help_text="A screenshot or a log helps (optional)."
    )


class ReopenForm(forms.Form):
    body = forms.CharField(
        label="What is still wrong?", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why (optional)", required=False, max_length=2000)


ReportProblemForm.base_fields["attachment"] = forms.FileField(
    label="Attach a file", required=False, help_text="A screenshot or the error message (optional)."
)


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How satisfied are you?",
        choices=[(n, f"{n} ★") for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything to add?", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
