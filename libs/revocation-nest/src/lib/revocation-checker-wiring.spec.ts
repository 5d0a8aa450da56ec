import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { uniqueKeyPrefix } from '@rescind/testing';
import { testModuleOptions } from '../testing';
import { LocalRevocationChecker } from './local-revocation.checker';
import { RevocationChecker } from './revocation.checker';
import { RevocationGuard } from './revocation.guard';
import { RevocationModule } from './revocation.module';
import { StoreRevocationLookup } from './store-revocation.lookup';

/** A benchmark-style baseline: what an application may put in place of the product's checker. */
@Injectable()
class AskTheStore extends RevocationChecker {
  constructor(readonly lookup: StoreRevocationLookup) {
    super();
  }

  override check(): true {
    return true;
  }
}

describe("RevocationModule's checker", () => {
  // Compiled, not initialised: the lazily connecting Redis client never connects.
  it('is the in-memory one, the product, by default', async () => {
    const module = await Test.createTestingModule({
      imports: [RevocationModule.forRoot(testModuleOptions(uniqueKeyPrefix()))],
    }).compile();
    expect(module.get(RevocationChecker)).toBeInstanceOf(LocalRevocationChecker);
  });

  it('is replaced by the wiring, for benchmarks, and built in the module', async () => {
    const module = await Test.createTestingModule({
      imports: [
        RevocationModule.forRoot(testModuleOptions(uniqueKeyPrefix()), { checker: AskTheStore }),
      ],
    }).compile();
    const checker = module.get(RevocationChecker);
    expect(checker).toBeInstanceOf(AskTheStore);
    expect((checker as AskTheStore).lookup).toBeInstanceOf(StoreRevocationLookup);
  });

  it('can be overridden as a provider in tests', async () => {
    const module = await Test.createTestingModule({
      imports: [RevocationModule.forRoot(testModuleOptions(uniqueKeyPrefix()))],
    })
      .overrideProvider(RevocationChecker)
      .useValue({ check: () => true })
      .compile();
    expect(module.get(RevocationChecker)).not.toBeInstanceOf(LocalRevocationChecker);
    expect(module.get(RevocationGuard)).toBeDefined();
  });
});
