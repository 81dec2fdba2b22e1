import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { MDL_NAMESPACE, elementMappingSchema, resolveElements, signerMismatch, toElementValue, type ElementMapping } from './claims.js';

const mapping = (input: Partial<ElementMapping> & { mapFrom: string }): ElementMapping => elementMappingSchema.parse(input);
const source = (claims: Record<string, unknown>) => ({ claims, user: { id: 'user-1' } });
const valueOf = (converted: ReturnType<typeof toElementValue>) => ('value' in converted ? converted.value : converted.problem);
const problemOf = (converted: ReturnType<typeof toElementValue>) => ('problem' in converted ? converted.problem : undefined);

describe('element types', () => {
  it('string, number, boolean: as they are, numbers only when whole (CBOR integers), past 32 bits as BigInt so cbor-x writes an integer', () => {
    expect(valueOf(toElementValue('string', 'Doe'))).toBe('Doe');
    expect(valueOf(toElementValue('number', 170))).toBe(170);
    expect(valueOf(toElementValue('number', -5))).toBe(-5);
    expect(valueOf(toElementValue('number', 2 ** 40))).toBe(2n ** 40n);
    expect(valueOf(toElementValue('boolean', false))).toBe(false);
    expect(problemOf(toElementValue('string', 42))).toBe('must be a string');
    for (const wrong of [1.5, '170', Number.MAX_SAFE_INTEGER + 1, Number.NaN, true]) expect(problemOf(toElementValue('number', wrong)), String(wrong)).toMatch(/whole number/);
    expect(problemOf(toElementValue('boolean', 'true'))).toMatch(/true or false/);
  });

  it('date: a full-date string becomes tag 1004; anything else is refused', () => {
    expect(valueOf(toElementValue('date', '1990-04-12'))).toEqual(new Tag('1990-04-12', 1004));
    for (const wrong of ['1990-4-12', '1990-02-30', '1990-04-12T00:00:00Z', 19900412, null]) expect(problemOf(toElementValue('date', wrong)), String(wrong)).toMatch(/full-date/);
  });

  it('dateTime: an RFC 3339 date-time becomes a tdate (tag 0) in UTC, whole seconds', () => {
    expect(valueOf(toElementValue('dateTime', '2024-03-01T09:30:15.999+01:00'))).toEqual(new Tag('2024-03-01T08:30:15Z', 0));
    expect(valueOf(toElementValue('dateTime', '2024-03-01t09:30:15z'))).toEqual(new Tag('2024-03-01T09:30:15Z', 0));
    for (const wrong of ['2024-03-01', '2024-03-01 09:30:15Z', '2024-02-30T00:00:00Z', '2024-03-01T25:00:00Z', 'yesterday', 1709285415]) {
      expect(problemOf(toElementValue('dateTime', wrong)), String(wrong)).toMatch(/RFC 3339/);
    }
  });

  it('binary: base64 or base64url becomes a byte string; other text is refused', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00]);
    expect(valueOf(toElementValue('binary', bytes.toString('base64')))).toEqual(bytes);
    expect(valueOf(toElementValue('binary', bytes.toString('base64url')))).toEqual(bytes);
    expect(valueOf(toElementValue('binary', ''))).toEqual(Buffer.alloc(0));
    for (const wrong of ['not base64!', 'a', '====', 'ab=c', 'YQ==YQ==', 42]) expect(problemOf(toElementValue('binary', wrong)), String(wrong)).toMatch(/base64/);
  });

  it('array and object: JSON become arrays and maps, whole numbers only, at any depth', () => {
    expect(valueOf(toElementValue('array', ['a', 1, true, null, { b: [2] }]))).toEqual(['a', 1, true, null, new Map([['b', [2]]])]);
    expect(valueOf(toElementValue('object', { street: 'Main St', floor: 2 }))).toEqual(new Map<string, unknown>([['street', 'Main St'], ['floor', 2]]));
    expect(problemOf(toElementValue('array', { a: 1 }))).toBe('must be an array');
    expect(problemOf(toElementValue('object', ['a']))).toBe('must be an object');
    expect(problemOf(toElementValue('object', null))).toBe('must be an object');
    expect(problemOf(toElementValue('object', { geo: { lat: 51.5 } }))).toBe('holds a number that is not a whole number at .geo.lat');
    expect(problemOf(toElementValue('array', [1, [2, 0.5]]))).toBe('holds a number that is not a whole number at [1][1]');
  });
});

describe('mappings', () => {
  it('type defaults to string and required to false; a defaultValue must fit the type', () => {
    expect(mapping({ mapFrom: 'claims.a' })).toEqual({ mapFrom: 'claims.a', required: false, type: 'string' });
    expect(elementMappingSchema.safeParse({ mapFrom: 'claims.a', type: 'date', defaultValue: '2024-01-01' }).success).toBe(true);
    const wrong = elementMappingSchema.safeParse({ mapFrom: 'claims.a', type: 'date', defaultValue: 'soon' });
    expect(wrong.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([[['defaultValue'], 'must be a full-date "YYYY-MM-DD" (the mapping\'s type is date)']]);
    expect(elementMappingSchema.safeParse({ mapFrom: 'claims.a', type: 'datetime' }).success).toBe(false);
    expect(elementMappingSchema.safeParse({ mapFrom: 'claims.a', selectivelyDisclosable: true }).success).toBe(false);
  });
});

describe('resolveElements', () => {
  const mappings = {
    [MDL_NAMESPACE]: {
      family_name: mapping({ mapFrom: 'claims.familyName', required: true }),
      birth_date: mapping({ mapFrom: 'claims.birthDate', required: true, type: 'date' }),
      issuing_country: mapping({ mapFrom: 'claims.country', defaultValue: 'US' }),
      nickname: mapping({ mapFrom: 'claims.nickname' }),
      driving_privileges: mapping({ mapFrom: 'claims.privileges', type: 'array' }),
    },
    'org.example.1': { member_id: mapping({ mapFrom: 'user.id', required: true }) },
  };

  it('resolves each element by namespace, with defaults, leaving out unresolved optional ones', () => {
    const { elements, problems } = resolveElements(mappings, source({ familyName: 'Doe', birthDate: '1990-04-12' }));
    expect(problems).toEqual([]);
    expect(elements).toEqual([
      { namespace: MDL_NAMESPACE, identifier: 'family_name', value: 'Doe' },
      { namespace: MDL_NAMESPACE, identifier: 'birth_date', value: new Tag('1990-04-12', 1004) },
      { namespace: MDL_NAMESPACE, identifier: 'issuing_country', value: 'US' },
      { namespace: 'org.example.1', identifier: 'member_id', value: 'user-1' },
    ]);
  });

  it('names the source field and the claim of each missing or mistyped value, never the value', () => {
    const { problems } = resolveElements(mappings, source({ birthDate: '12/04/1990', nickname: 7 }));
    expect(problems).toEqual([
      { field: 'claims.familyName', message: `required for claim "${MDL_NAMESPACE}/family_name"` },
      { field: 'claims.birthDate', message: `must be a full-date "YYYY-MM-DD" for claim "${MDL_NAMESPACE}/birth_date" (type date)` },
      { field: 'claims.nickname', message: `must be a string for claim "${MDL_NAMESPACE}/nickname" (type string)` },
    ]);
    expect(JSON.stringify(problems)).not.toContain('12/04/1990');
  });

  it('driving_privileges of the mDL namespace: issue_date and expiry_date become full-dates (ISO/IEC 18013-5 §7.2.4)', () => {
    const privileges = [{ vehicle_category_code: 'B', issue_date: '2010-05-01', expiry_date: '2031-01-15', codes: [{ code: '01' }] }, { vehicle_category_code: 'A' }];
    const { elements } = resolveElements(mappings, source({ familyName: 'Doe', birthDate: '1990-04-12', privileges }));
    const value = elements.find((element) => element.identifier === 'driving_privileges')!.value as Map<string, unknown>[];
    expect(value[0]!.get('issue_date')).toEqual(new Tag('2010-05-01', 1004));
    expect(value[0]!.get('expiry_date')).toEqual(new Tag('2031-01-15', 1004));
    expect(value[0]!.get('codes')).toEqual([new Map([['code', '01']])]);
    expect([...value[1]!.keys()]).toEqual(['vehicle_category_code']);
    // The claim data itself is left as it was.
    expect(privileges[0]!.issue_date).toBe('2010-05-01');

    const wrong = resolveElements(mappings, source({ familyName: 'Doe', birthDate: '1990-04-12', privileges: [{ vehicle_category_code: 'B', issue_date: '01/05/2010' }] }));
    expect(wrong.problems).toEqual([{ field: 'claims.privileges', message: `must have full-dates "YYYY-MM-DD" at [0].issue_date for claim "${MDL_NAMESPACE}/driving_privileges" (type array)` }]);
  });
});

describe('signerMismatch (ISO/IEC 18013-5 §9.3.3)', () => {
  const elements = (country?: string, jurisdiction?: string) => [
    ...(country ? [{ namespace: MDL_NAMESPACE, identifier: 'issuing_country', value: country }] : []),
    ...(jurisdiction ? [{ namespace: MDL_NAMESPACE, identifier: 'issuing_jurisdiction', value: jurisdiction }] : []),
  ];

  it('issuing_country must be the signer certificate C, issuing_jurisdiction its ST', () => {
    expect(signerMismatch(elements('US', 'US-CA'), { country: 'US', stateOrProvince: 'US-CA' })).toBeUndefined();
    expect(signerMismatch(elements(), { country: 'US' })).toBeUndefined();
    expect(signerMismatch(elements('NL'), { country: 'US' })).toMatch(/issuing_country must be US/);
    expect(signerMismatch(elements('US', 'US-NY'), { country: 'US', stateOrProvince: 'US-CA' })).toMatch(/issuing_jurisdiction must be US-CA/);
    // Elements of other namespaces are no concern of it.
    expect(signerMismatch([{ namespace: 'org.example.1', identifier: 'issuing_country', value: 'NL' }], { country: 'US' })).toBeUndefined();
  });
});
