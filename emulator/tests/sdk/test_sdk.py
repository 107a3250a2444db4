"""The real client: the service's published Python SDK (azure-mgmt-storageimportexport 0.1.0,
on msrest) drives the emulator, its base_url pointed at it, with a bearer token.

Run by .ci/run in a virtual environment:
    EMULATOR_BIN=target/debug/import-export-emulator python -m unittest discover -s emulator/tests/sdk -v
"""

import json
import os
import pathlib
import subprocess
import tempfile
import unittest
import urllib.request

from azure.mgmt.storageimportexport import StorageImportExport, models
from msrest.authentication import BasicTokenAuthentication

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "tests/fixtures/azure-rest-2021-01-01/CreateJob.json"
SUBSCRIPTION = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
TOKEN = "t"


class SdkAgainstTheEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        binary = os.environ.get("EMULATOR_BIN", str(ROOT / "target/debug/import-export-emulator"))
        cls.folder = tempfile.TemporaryDirectory()
        cls.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--db", os.path.join(cls.folder.name, "db.sqlite3"),
             "--clock", "virtual", "--start", "2026-01-05T09:00:00Z", "--token", TOKEN],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = cls.process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        cls.url = line[len("listening on "):]
        cls.client = StorageImportExport(
            BasicTokenAuthentication({"access_token": TOKEN}), SUBSCRIPTION, base_url=cls.url)

    @classmethod
    def tearDownClass(cls):
        cls.process.terminate()
        cls.process.wait(timeout=10)
        cls.folder.cleanup()

    def datacenter(self, rg, name, op):
        """The datacenter's side, which the SDK does not have: plain HTTP."""
        op = dict(op, path=f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}")
        request = urllib.request.Request(
            self.url + "/emulator/datacenter", data=json.dumps(op).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request) as response:
            self.assertEqual(json.load(response), {"ok": True})

    def test_a_job_from_create_to_404(self):
        example = json.loads(EXAMPLE.read_text())
        rg, name = example["parameters"]["resourceGroupName"], example["parameters"]["jobName"]
        body = models.PutJobParameters.from_dict(example["parameters"]["body"])
        jobs = self.client.jobs

        created = jobs.create(name, rg, body)
        self.assertEqual((created.name, created.properties.state), (name, "Creating"))
        self.assertIsNone(created.properties.drive_list[0].bit_locker_key, "never echoed")

        got = jobs.get(name, rg)
        self.assertEqual(got.id, f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}")
        self.assertEqual(got.properties.return_address.city, "Redmond")

        # A second job in another resource group, so that a one-per-page list follows nextLink.
        jobs.create("otherJob", "otherGroup", body)
        self.assertEqual([j.name for j in jobs.list_by_resource_group(rg)], [name])
        self.assertEqual([j.name for j in jobs.list_by_subscription(top=1)], [name, "otherJob"])

        shipped = jobs.update(name, rg, models.UpdateJobParameters(
            state="Shipping",
            delivery_package=models.PackageInfomation(
                carrier_name="FedEx", tracking_number="123456789", drive_count=1, ship_date="2026-01-06")))
        self.assertEqual(shipped.properties.state, "Shipping")

        with self.assertRaises(models.ErrorResponseException) as refused:
            jobs.delete(name, rg)
        self.assertEqual(refused.exception.response.status_code, 409)
        self.assertEqual(refused.exception.error.code, "DeleteNotAllowed")
        self.assertEqual(jobs.get(name, rg).properties.state, "Shipping", "the refusal changed nothing")

        cancelled = jobs.update(name, rg, models.UpdateJobParameters(cancel_requested=True))
        self.assertTrue(cancelled.properties.cancel_requested)

        keys = list(self.client.bit_locker_keys.list(name, rg))
        drive = example["parameters"]["body"]["properties"]["driveList"][0]
        self.assertEqual([(k.drive_id, k.bit_locker_key) for k in keys], [(drive["driveId"], drive["bitLockerKey"])])

        # The datacenter receives the drive and ships it back: a cancelled job ends Completed.
        self.datacenter(rg, name, {"op": "packageReceived", "drives": [drive["driveId"]]})
        self.datacenter(rg, name, {"op": "shipBack"})
        self.assertEqual(jobs.get(name, rg).properties.state, "Completed")

        self.assertIsNone(jobs.delete(name, rg))
        with self.assertRaises(models.ErrorResponseException) as gone:
            jobs.get(name, rg)
        self.assertEqual((gone.exception.response.status_code, gone.exception.error.code), (404, "JobNotFound"))

    def test_a_wrong_token_is_refused(self):
        client = StorageImportExport(BasicTokenAuthentication({"access_token": "wrong"}), SUBSCRIPTION, base_url=self.url)
        with self.assertRaises(models.ErrorResponseException) as refused:
            client.jobs.get("any", "rg")
        self.assertEqual((refused.exception.response.status_code, refused.exception.error.code), (401, "AuthenticationFailed"))


if __name__ == "__main__":
    unittest.main()
