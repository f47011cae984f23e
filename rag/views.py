from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import RagDocument


@login_required
def document_detail(request, document_id):
    document = get_object_or_404(RagDocument, pk=document_id, user=request.user)
    return render(request, "rag/document.html", {"document": document, "chunks": document.chunks.order_by("position")})
