import { writeFile } from 'node:fs/promises';
import { generateOpenApi } from './openapi.js';

// `npm run openapi`: regenerates the committed openapi/openapi.json from the route schemas.
const target = new URL('../openapi/openapi.json', import.meta.url);
await writeFile(target, await generateOpenApi());
console.log(`wrote ${target.pathname}`);
