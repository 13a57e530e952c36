"""The Mine Eco Processing provider: lists the algorithms and owns the provider settings."""

import importlib
import pkgutil

from qgis.core import Qgis, QgsMessageLog, QgsProcessingProvider

from .provider_info import (
    MEMORY_SETTING,
    PACKAGE_DIR,
    PROVIDER_ID,
    PROVIDER_NAME,
    icon,
    plugin_version,
)

MODELS = PACKAGE_DIR / "models"


def algorithm_classes():
    """Every algorithm class defined in a module of ``algorithms/``, ordered by id.

    Discovered rather than listed, so adding an algorithm is adding one file.
    """
    from . import algorithms
    from .algorithms.base import MineEcoAlgorithm

    found = {}
    for module_info in pkgutil.iter_modules(algorithms.__path__):
        try:
            module = importlib.import_module(f"{algorithms.__name__}.{module_info.name}")
        except Exception as error:  # noqa: BLE001 (one broken module must not hide the rest)
            QgsMessageLog.logMessage(
                f"algorithms.{module_info.name} cannot be loaded: {error!r}",
                PROVIDER_NAME,
                Qgis.MessageLevel.Critical,
            )
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, MineEcoAlgorithm)
                and value.__module__ == module.__name__
                and value.algorithm_id
            ):
                found[value.algorithm_id] = value
    return [found[key] for key in sorted(found)]


class MineEcoProvider(QgsProcessingProvider):
    """The algorithms of ``algorithms/`` and the workflow models of ``models/``."""

    def __init__(self, load_models: bool = True):
        super().__init__()
        self._load_models = load_models

    def id(self):
        return PROVIDER_ID

    def name(self):
        return PROVIDER_NAME

    def longName(self):
        return f"{PROVIDER_NAME} {plugin_version()}"

    def icon(self):
        return icon()

    def versionInfo(self):
        return plugin_version()

    def load(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:  # Processing's Python side is absent (bare QgsApplication)
            ProcessingConfig = None
        # The class itself is kept for unload(): when QGIS quits, the Processing plugin is
        # unloaded first and its modules leave sys.modules, so importing ProcessingConfig
        # again there would give a fresh class without this setting.
        self._config = ProcessingConfig
        if ProcessingConfig is not None:
            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(
                Setting(
                    self.name(),
                    MEMORY_SETTING,
                    "Memory budget (MB): bounds the memory of each raster algorithm run",
                    256,
                    valuetype=Setting.INT,
                )
            )
            ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        """Remove the setting added by load(); safe to call more than once, and when the
        Processing plugin is already gone (QGIS quitting)."""
        config, self._config = getattr(self, "_config", None), None
        if config is not None:
            config.settings.pop(MEMORY_SETTING, None)
            config.settingIcons.pop(self.name(), None)

    def loadAlgorithms(self):
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
        if self._load_models:
            from .workflows import WorkflowModel

            for path in sorted(MODELS.glob("*.model3")):
                try:
                    model = WorkflowModel(path)
                except ValueError as error:
                    QgsMessageLog.logMessage(str(error), PROVIDER_NAME, Qgis.MessageLevel.Warning)
                    continue
                self.addAlgorithm(model)
