"""Private files in an S3-compatible bucket (VIGIE_STORAGE=s3): encrypted by Vigie and by the provider, read back,
rotated in place, erased by the purge; the settings build the backend from the environment, production demands it.
"""

import io
import os
import runpy
from pathlib import Path

import boto3
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from moto import mock_aws

from core import crypto, files
from referrals.models import ReferralDocument
from retention import services as retention_services
from tests import clock
from tests.config.test_settings_and_headers import PRODUCTION_ENV
from tests.config.test_weak_production_settings import load_settings, refused
from tests.retention.helpers import PDF, attach, back

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-3"
BUCKET = "vigie-pieces"
S3_ENV = {
    "VIGIE_STORAGE": "s3",
    "VIGIE_S3_BUCKET": BUCKET,
    "VIGIE_S3_REGION": REGION,
    "VIGIE_S3_ACCESS_KEY_ID": "moto-access-key",
    "VIGIE_S3_SECRET_ACCESS_KEY": "moto-secret-key",
}
NEW_KEY = Fernet.generate_key().decode()


def settings_with(monkeypatch, tmp_path, **env) -> dict:
    """The settings module run afresh with only these VIGIE_ variables (and a scratch VIGIE_VAR_DIR)."""
    for name in [name for name in os.environ if name.startswith("VIGIE_") and name != clock.ENV]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VIGIE_VAR_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


@pytest.fixture
def s3():
    """An in-process S3 (moto) with an empty bucket; returns its client."""
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id=S3_ENV["VIGIE_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["VIGIE_S3_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


@pytest.fixture
def use_s3(s3, settings, monkeypatch, tmp_path):
    """use_s3(**env): the private storage exactly as the settings build it from S3_ENV and `env`."""

    def use(**env):
        storage = settings_with(monkeypatch, tmp_path, **S3_ENV, **env)["STORAGES"]["default"]
        settings.STORAGES = {**settings.STORAGES, "default": storage}  # setting_changed drops the cached backend

    return use


@pytest.fixture
def bucket(s3, use_s3):
    use_s3()
    return s3


@pytest.fixture
def new_key(settings):
    """new_key(): NEW_KEY first in VIGIE_FIELD_KEYS, the suite's keys after it (returned); core.crypto re-reads them."""

    def put_first():
        old = list(settings.VIGIE_FIELD_KEYS)
        settings.VIGIE_FIELD_KEYS = [NEW_KEY, *old]
        crypto._fernet.cache_clear()
        return old

    yield put_first
    crypto._fernet.cache_clear()  # the settings fixture restores the keys right after


def objects(client) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {entry["Key"]: client.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read() for entry in listed}


def encryption(client, key: str) -> str | None:
    return client.head_object(Bucket=BUCKET, Key=key).get("ServerSideEncryption")


def upload(client, referral):
    return client.post(
        f"/api/v1/referrals/{referral.pk}/documents/",
        {"file": SimpleUploadedFile("plainte.pdf", PDF, content_type="application/pdf"), "kind": "evidence"},
    )


# --- the settings ----------------------------------------------------------------------------------------------


def test_local_disk_stays_the_default(monkeypatch, tmp_path):
    storage = settings_with(monkeypatch, tmp_path)["STORAGES"]["default"]
    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["location"] == tmp_path / "var" / "private"


def test_s3_options_come_from_the_environment(monkeypatch, tmp_path):
    env = {**S3_ENV, "VIGIE_S3_ENDPOINT_URL": "https://s3.gra.example.net", "VIGIE_S3_ADDRESSING_STYLE": "path"}
    storage = settings_with(monkeypatch, tmp_path, **env)["STORAGES"]["default"]
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": "https://s3.gra.example.net",
            "region_name": REGION,
            "addressing_style": "path",
            "access_key": "moto-access-key",
            "secret_key": "moto-secret-key",
            "default_acl": None,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }


@pytest.mark.parametrize(
    "env, parameters",
    [
        ({"VIGIE_S3_ENCRYPTION": "aws:kms"}, {"ServerSideEncryption": "aws:kms"}),
        (
            {"VIGIE_S3_ENCRYPTION": "aws:kms", "VIGIE_S3_KMS_KEY_ID": "arn:aws:kms:eu-west-3:1:key/vigie"},
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:eu-west-3:1:key/vigie"},
        ),
        ({"VIGIE_S3_ENCRYPTION": "bucket"}, {}),
    ],
    ids=["kms", "kms-key", "bucket"],
)
def test_the_server_side_encryption_is_chosen(monkeypatch, tmp_path, env, parameters):
    storage = settings_with(monkeypatch, tmp_path, **S3_ENV, **env)["STORAGES"]["default"]
    assert storage["OPTIONS"]["object_parameters"] == parameters


@pytest.mark.parametrize(
    "env, message",
    [
        ({"VIGIE_STORAGE": "ftp"}, "VIGIE_STORAGE doit valoir 'local' ou 's3', pas 'ftp'"),
        ({**S3_ENV, "VIGIE_S3_BUCKET": " "}, "VIGIE_STORAGE=s3 exige VIGIE_S3_BUCKET"),
        ({**S3_ENV, "VIGIE_S3_ENCRYPTION": "none"}, "VIGIE_S3_ENCRYPTION doit valoir 'AES256', 'aws:kms' ou 'bucket'"),
    ],
    ids=["unknown-storage", "no-bucket", "unknown-encryption"],
)
def test_a_bad_storage_setting_is_refused_in_french(monkeypatch, tmp_path, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_with(monkeypatch, tmp_path, **env)


def test_production_refuses_s3_without_its_bucket_and_credentials():
    error = refused(VIGIE_STORAGE="s3", VIGIE_S3_SECRET_ACCESS_KEY="not-echoed-secret")
    assert "VIGIE_STORAGE=s3 : variables manquantes : VIGIE_S3_BUCKET, VIGIE_S3_ACCESS_KEY_ID." in error
    assert "not-echoed-secret" not in error


def test_production_starts_on_s3_with_its_bucket_and_credentials():
    result = load_settings(**PRODUCTION_ENV, **S3_ENV)
    assert result.returncode == 0, result.stderr


# --- the files, in the bucket ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_is_stored_encrypted_twice_and_read_back(api, users, make_referral, bucket):
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral)
    assert response.status_code == 201, response.json()

    [(key, body)] = objects(bucket).items()
    assert key == ReferralDocument.objects.get().storage_name
    assert PDF not in body and crypto.decrypt_bytes(body) == PDF  # Vigie's Fernet token, not the plaintext
    assert encryption(bucket, key) == "AES256"  # and the provider's encryption at rest

    download = api(users["coord_sud"]).get(f"/api/v1/documents/{response.json()['id']}/download/")
    assert download.status_code == 200 and download.content == PDF


def test_the_bucket_s_own_encryption_sends_no_header(s3, use_s3):
    use_s3(VIGIE_S3_ENCRYPTION="bucket")
    name, _ = files.store_private(PDF, folder="documents")
    assert encryption(s3, name) is None and files.read_private(name) == PDF


@pytest.mark.django_db
def test_key_rotation_rewrites_the_object_in_place(users, make_referral, bucket, settings, new_key):
    document = attach(make_referral("received"), "coord_sud")
    [(key, before)] = objects(bucket).items()
    old = new_key()
    call_command("rotate_keys", stdout=io.StringIO(), stderr=io.StringIO())

    [(same_key, after)] = objects(bucket).items()  # the same object, no copy beside it
    assert same_key == key == document.storage_name and after != before
    assert Fernet(NEW_KEY).decrypt(after) == PDF
    with pytest.raises(InvalidToken):
        Fernet(old[0]).decrypt(after)
    assert encryption(bucket, key) == "AES256"  # still encrypted at rest by the provider
    assert files.rotate_private(key) is False  # already under the first key


@pytest.mark.django_db
def test_the_purge_deletes_the_object(make_referral, bucket, django_capture_on_commit_callbacks):
    with back(months=26):
        draft = make_referral("draft")
        attach(draft, "referrer_ccas")
    assert len(objects(bucket)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_services.retention_purge().counts["draft"] == 1
    assert objects(bucket) == {}


def test_a_storage_that_cannot_replace_a_file_at_once_is_refused(monkeypatch):
    """Neither a local path nor S3: nothing says the storage can replace a file at once."""
    name, _ = files.store_private(PDF, folder="documents")

    def no_local_path(name):
        raise NotImplementedError

    with monkeypatch.context() as patch:
        patch.setattr(files.default_storage, "path", no_local_path)
        with pytest.raises(ImproperlyConfigured, match="disque local ou compatible S3"):
            files._replace_private(name, crypto.encrypt_bytes(b"autre"))
    assert files.read_private(name) == PDF
