/**
 * Runs the stand-in courier on its own (快递取送 development): `npm run courier -- [--port 4100] [--step-ms 60000]`,
 * then start the service with COURIER_URL=http://127.0.0.1:4100. Same contract as a real courier's API.
 */
import { parseArgs } from 'node:util';
import { startStandInCourier } from '../delivery/stand-in-courier.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '4100' }, host: { type: 'string', default: '127.0.0.1' }, 'step-ms': { type: 'string', default: '60000' } } });
const courier = await startStandInCourier({ port: Number(values.port), host: values.host, stepMs: Number(values['step-ms']) });
process.stdout.write(`stand-in courier listening on ${courier.url} (POST /waybills, GET /waybills/{waybillNo})\n`);
const stop = () => void courier.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
