import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Factories = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildValidator = NonNullable<Factories['buildValidator']>;
type BuildSerializer = NonNullable<Factories['buildSerializer']>;

/**
 * Fastify's JSON-schema compilers (Ajv, fast-json-stringify), loaded the
 * first time a route declares a JSON schema instead of when the server is
 * created. Our routes validate with zod and declare none, and loading Ajv
 * was the largest single cost of starting the server (about 0.4 s of CPU).
 * They are Fastify's own dependencies, so they are required from Fastify.
 */
export function lazySchemaCompilers(): Factories {
  const load = createRequire(import.meta.resolve('fastify'));
  let validator: BuildValidator | undefined;
  let serializer: BuildSerializer | undefined;
  const buildValidator = ((...args: unknown[]) => {
    validator ??= (load('@fastify/ajv-compiler') as () => BuildValidator)();
    return (validator as (...a: unknown[]) => unknown)(...args);
  }) as BuildValidator;
  const buildSerializer = ((...args: unknown[]) => {
    serializer ??= (load('@fastify/fast-json-stringify-compiler') as () => BuildSerializer)();
    return (serializer as (...a: unknown[]) => unknown)(...args);
  }) as BuildSerializer;
  return { buildValidator, buildSerializer };
}
