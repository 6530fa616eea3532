"""Web pages of the dossier (thin: forms in, services do the work)."""

from django.shortcuts import redirect


def home(request):
    return redirect("referral-list")


referral_list = referral_create = referral_detail = referral_edit = referral_action = home
document_upload = document_download = home
