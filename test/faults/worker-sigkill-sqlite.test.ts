import { workerSigkillScenario } from './worker-sigkill.js';

workerSigkillScenario('sqlite');
