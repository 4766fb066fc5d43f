from django.urls import path

from itxm.surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/<int:score>", views.score, name="score"),
    path("s/<str:token>/thanks", views.thanks, name="thanks"),
    path("s/<str:token>", views.survey, name="survey"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("c/<str:token>", views.campaign_link, name="campaign_link"),
]
