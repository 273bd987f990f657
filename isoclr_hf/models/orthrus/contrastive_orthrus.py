"""Orthrus contrastive pretraining: the Orthrus encoder in IsoCLR's contrastive model.

Not remote code: this module imports the IsoCLR family and is never copied next to the weights.
Pretraining saves the encoder alone (an :class:`OrthrusModel`, whose folder loads without this
package); the projection head only serves the loss, as for IsoCLR.

The loss, the masking augmentation and the way the two views go through the encoder in one batch
are IsoCLR's (:class:`IsoCLRForContrastivePretraining`, inherited here unchanged): decoupled
contrastive loss on L2-normalised projections with the Eq. 3 positive weights, negatives gathered
from every process, ``mask_fraction`` of each view's valid positions set to ``mask_value``.
"""

from __future__ import annotations

from ..isoclr.loss_isoclr import DecoupledContrastiveLoss
from ..isoclr.modeling_isoclr import IsoCLRForContrastivePretraining, IsoCLRProjectionHead
from .configuration_orthrus import OrthrusConfig
from .modeling_orthrus import OrthrusModel, OrthrusPreTrainedModel


class OrthrusForContrastivePretraining(OrthrusPreTrainedModel, IsoCLRForContrastivePretraining):
    """Orthrus encoder + projection MLP + weighted decoupled contrastive loss.

    ``forward`` is :meth:`IsoCLRForContrastivePretraining.forward` (same arguments, same output);
    the initialisation is Orthrus's. The encoder is ``self.orthrus``, reached by generic code as
    ``base_model`` (``base_model_prefix = "orthrus"``).
    """

    config_class = OrthrusConfig

    def __init__(self, config: OrthrusConfig) -> None:
        OrthrusPreTrainedModel.__init__(self, config)  # not IsoCLR's __init__, which builds the CNN
        self.orthrus = OrthrusModel(config)
        self.projection = IsoCLRProjectionHead(config)  # type: ignore[arg-type]  (reads hidden_size, projection_*)
        self.contrastive_loss = DecoupledContrastiveLoss(temperature=config.loss_temperature)
        self.post_init()

    # Deprecated alias: generic code reaches the encoder through ``base_model``. The pretraining loop and
    # hub/package.py still read ``.isoclr`` until they move to ``.base_model``; then this alias goes.
    @property
    def isoclr(self) -> OrthrusModel:  # type: ignore[override]
        """Deprecated: the encoder, as ``self.orthrus`` and ``self.base_model``."""
        return self.orthrus


__all__ = ["OrthrusForContrastivePretraining"]
