import { createClient } from '@extapi/core';
import { fetchTransport } from '@extapi/backend-fetch';
import { retry, timeout, headers, expectStatus } from '@extapi/middleware';
export const client = createClient([retry(), timeout(), headers({ 'x-a': '1' }), expectStatus(), fetchTransport()]);
