"""DICOM files built with pydicom, carrying a known identity (``Doe^Jane``, ``MRN-123456``) to look for."""

from __future__ import annotations

import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

PATIENT_NAME, PATIENT_ID = "Doe^Jane", "MRN-123456"


def dicom_file(pixels: np.ndarray, **attributes) -> bytes:
    """A CT Part-10 file of ``pixels`` with identifying attributes; ``attributes`` override or add elements."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = PATIENT_NAME, PATIENT_ID, "19700101"
    ds.PatientAddress, ds.InstitutionName, ds.AccessionNumber = "1 Main St, Springfield", "General Hospital", "ACC99"
    ds.ReferringPhysicianName, ds.StudyDate, ds.StudyTime = "House^Gregory", "20240517", "101500"
    ds.Modality, ds.BodyPartExamined = "CT", "HEAD"
    ds.add_new(0x00091010, "LO", "private vendor note with the name Doe")
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 1 if pixels.dtype == np.int16 else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    for key, value in attributes.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
