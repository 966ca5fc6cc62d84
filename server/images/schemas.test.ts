import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageCreateSchema, imageSettingsSchema } from './schemas.js';
import { parseInput } from '../validate.js';
import { AppError } from '../errors.js';

test('per-node SSH host keys are the default; the golden host\'s keys only when asked for', () => {
  assert.equal(imageSettingsSchema.parse({}).hostKeys, 'state');
  assert.equal(parseInput(imageCreateSchema, { name: 'centos7' }).settings.hostKeys, 'state');
  assert.equal(parseInput(imageCreateSchema, { name: 'centos7', settings: { statetab: ['/var/lib/app'] } }).settings.hostKeys, 'state');
  assert.equal(parseInput(imageCreateSchema, { name: 'centos7', settings: { hostKeys: 'keep' } }).settings.hostKeys, 'keep');
  assert.throws(() => parseInput(imageCreateSchema, { name: 'centos7', settings: { hostKeys: 'shared' } }),
    (e: unknown) => e instanceof AppError && e.field === 'settings.hostKeys');
});
