"""``ndtwin.v1.ModelService``: the model library (built-in plus per-tenant SDF models)."""

from __future__ import annotations

from server.core import errors
from server.grpc.call import Call
from server.grpc.gen.ndtwin.v1 import models_pb2 as pb
from server.grpc.model_library import LibraryModel, ModelLibrary, parse_source
from server.grpc.names import model_name, parse_model_name
from server.grpc.serde import issue_to_proto, json_from_struct

__all__ = ["ModelServicer"]

_VIEWS = {
    pb.MODEL_VIEW_SDF: "sdf",
    pb.MODEL_VIEW_SHACL: "shacl",
    pb.MODEL_VIEW_WOT_TM: "wot-tm",
    pb.MODEL_VIEW_DITTO: "ditto",
    pb.MODEL_VIEW_JSON_SCHEMA: "jsonschema",
}
_DEFAULT_PAGE, _MAX_PAGE = 100, 1000


def _model_to_proto(model: LibraryModel) -> pb.Model:
    info = model.info
    return pb.Model(
        name=model_name(model.model_id),
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        namespace=model.document.default_namespace or "",
        definitions=model.definitions,
        origin=pb.Model.ORIGIN_BUILT_IN if model.built_in else pb.Model.ORIGIN_TENANT,
    )


def _source(source: pb.ModelSource) -> tuple[object, str]:
    which = source.WhichOneof("source")
    if which is None:
        raise errors.JsonFormatInvalid("The request carries no model (content or document).")
    if which == "document":
        return parse_source(None, json_from_struct(source.document))
    return parse_source(source.content, None)


class ModelServicer:
    """List, Get (in each representation), Validate and Register SDF models."""

    def __init__(self, library: ModelLibrary) -> None:
        self._library = library

    async def ListModels(self, request: pb.ListModelsRequest, call: Call) -> pb.ListModelsResponse:
        caller = call.tenant_caller
        if request.page_size < 0:
            raise errors.SearchOptionInvalid(f"The page_size {request.page_size} is negative.")
        size = min(request.page_size or _DEFAULT_PAGE, _MAX_PAGE)
        try:
            offset = int(request.page_token or "0")
            if offset < 0:
                raise ValueError(offset)
        except ValueError as exc:
            raise errors.SearchOptionInvalid("The page_token is not one this server gave.") from exc
        models = await call.run(self._library.models, caller.tenant)
        page = models[offset : offset + size]
        return pb.ListModelsResponse(
            models=[_model_to_proto(m) for m in page],
            next_page_token=str(offset + size) if offset + size < len(models) else "",
        )

    async def GetModel(self, request: pb.GetModelRequest, call: Call) -> pb.Model:
        caller = call.tenant_caller
        model = self._library.get(caller.tenant, parse_model_name(request.name))
        out = _model_to_proto(model)
        view = _VIEWS.get(request.view)
        if request.view and view is None:
            raise errors.BadRequest(f"The view {request.view} is not known.")
        if view is not None:
            files = await call.run(self._library.files, model, view)
            out.files.extend(pb.ModelFile(path=p, media_type=m, content=c) for p, m, c in files)
        return out

    async def ValidateModel(
        self, request: pb.ValidateModelRequest, call: Call
    ) -> pb.ValidateModelResponse:
        caller = call.tenant_caller
        data, _ = _source(request.model)
        issues = await call.run(self._library.validate, caller.tenant, data)
        return pb.ValidateModelResponse(
            valid=not any(i.is_error for i in issues), issues=[issue_to_proto(i) for i in issues]
        )

    async def RegisterModel(self, request: pb.RegisterModelRequest, call: Call) -> pb.Model:
        caller = call.tenant_caller
        data, text = _source(request.model)
        model = await call.run(self._library.register, caller.tenant, request.model_id, data, text)
        return _model_to_proto(model)
