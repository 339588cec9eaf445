/**
 * The JSON-Schema half of config validation: schemas/config.schema.json compiled by ajv. Running from
 * the sources (unit tests, scripts run by node) this module compiles the schema when first imported. The build
 * (cli/build/) swaps this module for the same validator precompiled with ajv's standalone code
 * generation from `configSchemaAjv()`, so the CLI never compiles the schema at run time (~130 ms a
 * run). validate.ts imports `validateSchema` and cannot tell which of the two it has;
 * cli/build/standalone-validator.test.ts checks that both report the same errors.
 */
import { Ajv2020, type CodeOptions, type ValidateFunction } from 'ajv/dist/2020.js';
import schema from '../../schemas/config.schema.json' with { type: 'json' };
import type { IdplaneConfig } from '../../schemas/generated/config.ts';

export { schema as configSchema };

/**
 * The one ajv set-up for the config schema, from sources and in the build alike.
 * verbose: errors carry their parentSchema, which the "did you mean" hints read the allowed keys from.
 * discriminator: an app's errors come from the branch its provider names, not from all three.
 */
export function configSchemaAjv(code: CodeOptions = {}): Ajv2020 {
  return new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true, discriminator: true, code });
}

export const validateSchema: ValidateFunction<IdplaneConfig> = configSchemaAjv().compile<IdplaneConfig>(schema);
