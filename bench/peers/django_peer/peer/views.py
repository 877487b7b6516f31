"""/me through `request.user`, logout through `django.contrib.auth.logout` in a POST view."""

from django.contrib.auth import logout
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST


@require_GET
def me(request: HttpRequest) -> JsonResponse:
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    return JsonResponse(
        {
            "user": {
                "id": user.pk,
                "email": user.email or None,
                "display_name": user.get_full_name() or None,
                "created_at": user.date_joined.isoformat(),
            }
        }
    )


@require_POST
def logout_view(request: HttpRequest) -> JsonResponse:
    # CsrfViewMiddleware has already checked X-CSRFToken against the csrftoken cookie.
    logout(request)
    return JsonResponse({"ok": True})
