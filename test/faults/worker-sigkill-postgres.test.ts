import { workerSigkillScenario } from './worker-sigkill.js';

workerSigkillScenario('postgres');
