from django.urls import path
from django.views.generic import TemplateView

app_name = "web"

urlpatterns = [
    path("help/", TemplateView.as_view(template_name="web/help.html"), name="help"),
]
