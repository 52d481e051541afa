from __future__ import annotations

from django.urls import path

from esante.accounts.activation import views

app_name = "activation"

urlpatterns = [
    path("commencer/", views.start, name="start"),
    path("cgu.pdf", views.cgu_pdf, name="cgu_pdf"),
    path("etape-1/", views.code, name="code"),
    path("etape-1/nouveau-courrier/", views.new_letter, name="new_letter"),
    path("etape-2/", views.password, name="password"),
    path("etape-3/", views.contact, name="contact"),
    path("etape-3/code/", views.otp, name="otp"),
    path("etape-4/", views.authenticators, name="authenticators"),
    path("etape-5/", views.done, name="done"),
]
