"""The official `huaweicloudsdkfrs` client (PyPI) against a real `openfrs serve` with auth on.

The SDK signs every call with AK/SK (SDK-HMAC-SHA256); the server verifies it against a credential
made with the tenancy store on the server's own stores (a data dir, or a PostgreSQL schema on the
session's `--backend`), as `openfrs admin create-credential` does. What this proves: paths,
content types, field names and response shapes are what the SDK expects, including its multipart
file upload, and its signatures verify; a wrong SK, a stale X-Sdk-Date or another project's id
are refused with the FRS/APIG code.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.signer import signer as official_signer
from huaweicloudsdkfrs.v2 import (
    AddFacesBase64Req,
    AddFacesByBase64Request,
    CompareFaceByBase64Request,
    CreateFaceSetReq,
    CreateFaceSetRequest,
    DeleteFaceByFaceIdRequest,
    DeleteFaceSetRequest,
    DetectFaceByBase64Request,
    DetectFaceByFileRequest,
    DetectFaceByFileRequestBody,
    FaceCompareBase64Req,
    FaceDetectBase64Req,
    FaceSearchBase64Req,
    FaceSearchFaceIdReq,
    FrsClient,
    SearchFaceByBase64Request,
    SearchFaceByFaceIdRequest,
    ShowAllFaceSetsRequest,
    ShowFacesByLimitRequest,
    ShowFaceSetRequest,
    TypeInfo,
    UpdateFaceReq,
    UpdateFaceRequest,
)

from openfrs.benchmark.http_load import free_port, start_server
from tests.api.test_auth import projects_with_credentials
from tests.conftest import server_env, stores_of_their_own

pytestmark = pytest.mark.models


def client(endpoint: str, ak: str, sk: str, project_id: str) -> FrsClient:
    return (FrsClient.new_builder().with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoint(endpoint).build())


@pytest.fixture(scope="module")
def server(settings, model_pack_dir, tmp_path_factory):
    """(endpoint, credential of project "sdk", credential of project "other")."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("sdk-data")) as own:
        mine, theirs = projects_with_credentials(own, "sdk", "other")
        port = free_port()
        proc = start_server(port, own.data_dir, settings.model_dir,
                            extra_env={"OPENFRS_AUTH": "on", "OPENFRS_QPS_DEFAULT": "0", **server_env(own)})
        yield f"http://127.0.0.1:{port}", mine, theirs
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def sdk(server):
    endpoint, mine, _ = server
    return client(endpoint, mine.ak, mine.sk, mine.project_id)


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_sdk_detect_by_base64(sdk, shared_data):
    body = FaceDetectBase64Req(image_base64=b64(shared_data / "crowd/insightface_t1.jpg"),
                               attributes="1,2,4,12,13,21")
    response = sdk.detect_face_by_base64(DetectFaceByBase64Request(body=body))
    assert len(response.faces) >= 5
    attributes = response.faces[0].attributes  # the SDK's typed model parses our answer
    # gender may be withheld ("unknown": under 13 or probability < 0.80, vision/agegender.py)
    assert attributes.face_angle == 0 and attributes.gender in ("male", "female", "unknown")
    assert isinstance(attributes.age, int) and 0 < attributes.age < 100
    assert attributes.dress.glass == "unknown" and attributes.expression.type == "unknown"
    box = response.faces[0].bounding_box
    assert box.width > 0 and box.height > 0 and box.top_left_x >= 0


def test_sdk_detect_by_file(sdk, shared_data):
    path = shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg"
    with path.open("rb") as image_file:
        body = DetectFaceByFileRequestBody(image_file=FormFile(image_file))
        response = sdk.detect_face_by_file(DetectFaceByFileRequest(body=body))
    assert len(response.faces) == 1


def test_sdk_compare_by_base64(sdk, shared_data):
    people = shared_data / "lfw-partial/images"
    body = FaceCompareBase64Req(image1_base64=b64(people / "Abdullah/Abdullah_0002.jpg"),
                                image2_base64=b64(people / "Abdullah/Abdullah_0003.jpg"))
    response = sdk.compare_face_by_base64(CompareFaceByBase64Request(body=body))
    assert response.similarity >= 0.93
    assert response.image1_face.bounding_box.width > 0


def test_sdk_sees_frs_error_codes(sdk):
    body = FaceDetectBase64Req(image_base64=base64.b64encode(b"not an image at all").decode())
    with pytest.raises(ClientRequestException) as caught:
        sdk.detect_face_by_base64(DetectFaceByBase64Request(body=body))
    assert caught.value.status_code == 400
    assert caught.value.error_code == "FRS.0016"
    assert caught.value.request_id


def test_sdk_face_set_lifecycle(sdk):
    body = CreateFaceSetReq(face_set_name="sdk_set", face_set_capacity=10_000,
                            external_fields={"age": TypeInfo(type="integer")})
    created = sdk.create_face_set(CreateFaceSetRequest(body=body))
    assert created.face_set_info.face_set_name == "sdk_set"
    assert created.face_set_info.face_set_capacity == 10_000
    shown = sdk.show_face_set(ShowFaceSetRequest(face_set_name="sdk_set"))
    assert shown.face_set_info.face_set_id == created.face_set_info.face_set_id
    assert shown.face_set_info.face_number == 0
    listed = sdk.show_all_face_sets(ShowAllFaceSetsRequest())
    assert "sdk_set" in [info.face_set_name for info in listed.face_sets_info]
    deleted = sdk.delete_face_set(DeleteFaceSetRequest(face_set_name="sdk_set"))
    assert deleted.face_set_name == "sdk_set"
    with pytest.raises(ClientRequestException) as caught:
        sdk.show_face_set(ShowFaceSetRequest(face_set_name="sdk_set"))
    assert caught.value.error_code == "FRS.0302"


def test_sdk_add_search_update_delete(sdk, shared_data):
    """The issue's flow: create face set -> add faces -> search -> update -> delete."""
    people = shared_data / "lfw-partial/images"
    body = CreateFaceSetReq(face_set_name="flow", external_fields={"age": TypeInfo(type="integer")})
    sdk.create_face_set(CreateFaceSetRequest(body=body))
    face_ids = {}
    for name, photo, age in (("Abdullah", "Abdullah_0002.jpg", 30),
                             ("Aaron_Eckhart", "Aaron_Eckhart_0001.jpg", 40)):
        added = sdk.add_faces_by_base64(AddFacesByBase64Request(
            face_set_name="flow",
            body=AddFacesBase64Req(image_base64=b64(people / name / photo), external_image_id=name,
                                   external_fields={"age": age}, single=True)))
        assert added.face_set_name == "flow" and len(added.faces) == 1
        face_ids[name] = added.faces[0].face_id

    found = sdk.search_face_by_base64(SearchFaceByBase64Request(
        face_set_name="flow",
        body=FaceSearchBase64Req(image_base64=b64(people / "Abdullah/Abdullah_0003.jpg"), top_n=2,
                                 threshold=0.5, return_fields=["age"], filter="age:[1 TO 100]")))
    assert found.faces[0].face_id == face_ids["Abdullah"]
    assert found.faces[0].similarity >= 0.93
    assert found.faces[0].external_fields == {"age": 30}

    by_id = sdk.search_face_by_face_id(SearchFaceByFaceIdRequest(
        face_set_name="flow", body=FaceSearchFaceIdReq(face_id=face_ids["Aaron_Eckhart"], top_n=1)))
    assert by_id.faces[0].face_id == face_ids["Aaron_Eckhart"]

    updated = sdk.update_face(UpdateFaceRequest(
        face_set_name="flow",
        body=UpdateFaceReq(face_id=face_ids["Abdullah"], external_fields={"age": 31})))
    assert updated.face_number == 1
    listed = sdk.show_faces_by_limit(ShowFacesByLimitRequest(face_set_name="flow", offset=0, limit=5))
    ages = {face.face_id: face.external_fields["age"] for face in listed.faces}
    assert ages[face_ids["Abdullah"]] == 31

    deleted = sdk.delete_face_by_face_id(DeleteFaceByFaceIdRequest(face_set_name="flow",
                                                                   face_id=face_ids["Abdullah"]))
    assert deleted.face_number == 1
    shown = sdk.show_face_set(ShowFaceSetRequest(face_set_name="flow"))
    assert shown.face_set_info.face_number == 1
    sdk.delete_face_set(DeleteFaceSetRequest(face_set_name="flow"))


def _sdk_calls(sdk_client: FrsClient, image: str) -> dict:
    """The acceptance's calls, each as the official client makes it."""
    def add():
        return sdk_client.add_faces_by_base64(AddFacesByBase64Request(
            face_set_name="any", body=AddFacesBase64Req(image_base64=image)))

    return {
        "detect": lambda: sdk_client.detect_face_by_base64(
            DetectFaceByBase64Request(body=FaceDetectBase64Req(image_base64=image))),
        "compare": lambda: sdk_client.compare_face_by_base64(CompareFaceByBase64Request(
            body=FaceCompareBase64Req(image1_base64=image, image2_base64=image))),
        "create": lambda: sdk_client.create_face_set(CreateFaceSetRequest(
            body=CreateFaceSetReq(face_set_name="intruder"))),
        "show": lambda: sdk_client.show_face_set(ShowFaceSetRequest(face_set_name="any")),
        "list": lambda: sdk_client.show_all_face_sets(ShowAllFaceSetsRequest()),
        "add": add,
        "search": lambda: sdk_client.search_face_by_base64(SearchFaceByBase64Request(
            face_set_name="any", body=FaceSearchBase64Req(image_base64=image))),
        "delete_face": lambda: sdk_client.delete_face_by_face_id(DeleteFaceByFaceIdRequest(
            face_set_name="any", face_id="x")),
        "delete_set": lambda: sdk_client.delete_face_set(DeleteFaceSetRequest(face_set_name="any")),
    }


def _all_refused(sdk_client: FrsClient, image: str, status: int, code: str) -> None:
    for name, call in _sdk_calls(sdk_client, image).items():
        with pytest.raises(ClientRequestException) as caught:
            call()
        assert (caught.value.status_code, caught.value.error_code) == (status, code), name


def test_sdk_calls_with_a_wrong_key_a_stale_date_or_another_project_fail(server, shared_data, monkeypatch):
    endpoint, mine, theirs = server
    image = b64(shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg")
    wrong_sk = mine.sk[:-1] + ("A" if mine.sk[-1] != "A" else "B")
    _all_refused(client(endpoint, mine.ak, wrong_sk, mine.project_id), image, 401, "APIG.0301")
    _all_refused(client(endpoint, mine.ak, mine.sk, theirs.project_id), image, 403, "FRS.0028")
    _all_refused(client(endpoint, theirs.ak, theirs.sk, mine.project_id), image, 403, "FRS.0028")

    class SlowClock(datetime):  # the official signer stamps X-Sdk-Date from datetime.utcnow()
        @classmethod
        def utcnow(cls):
            return datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=20)

    monkeypatch.setattr(official_signer, "datetime", SlowClock)
    _all_refused(client(endpoint, mine.ak, mine.sk, mine.project_id), image, 401, "APIG.0301")
    monkeypatch.undo()
    right = client(endpoint, mine.ak, mine.sk, mine.project_id)
    assert "intruder" not in [i.face_set_name for i in right.show_all_face_sets(ShowAllFaceSetsRequest())
                              .face_sets_info]
    assert len(right.detect_face_by_base64(
        DetectFaceByBase64Request(body=FaceDetectBase64Req(image_base64=image))).faces) == 1
