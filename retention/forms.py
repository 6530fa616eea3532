from django import forms


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label="Motif du gel",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : procédure pénale en cours, interdiction de contact toujours en vigueur.",
        error_messages={"required": "Indiquez le motif du gel."},
    )
