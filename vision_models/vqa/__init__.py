"""Medical visual question answering with question-type priors (see ``MODEL_CARD.md`` of the bundles)."""

from vision_models.vqa.model import Finding, QuestionError, VQAModel, VQAResult

__all__ = ["Finding", "QuestionError", "VQAModel", "VQAResult"]
