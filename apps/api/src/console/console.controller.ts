import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@rescind/revocation-nest';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type HttpReply } from '../http/http-reply';
import { type ConsoleAsset, loadConsoleAssets } from './console-assets';

/**
 * The page may load its own script, style sheet and JSON, and nothing else: no inline script or
 * style, no other origin, no framing, no form posted anywhere (README, "Operator console").
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Assets are not fingerprinted: every load revalidates, so that a deploy is seen at once. */
export const CONSOLE_CACHE_CONTROL = 'no-cache';

/**
 * `GET /admin/console`: the operator console, a static page whose script calls the admin routes
 * with the key the operator types in. Public: the page holds no secret, the key stays in the tab.
 */
@Public()
@ApiTags('admin')
@Controller('admin/console')
export class ConsoleController {
  private readonly page: ConsoleAsset;
  private readonly assets: ReadonlyMap<string, ConsoleAsset>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    ({ page: this.page, assets: this.assets } = loadConsoleAssets(
      config.adminApiKey !== undefined,
    ));
  }

  @Get()
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'the console page (the admin key is typed in it)' })
  index(@Res({ passthrough: true }) reply: HttpReply): string {
    return send(reply, this.page);
  }

  @Get(':asset')
  @ApiExcludeEndpoint()
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: HttpReply): string {
    const asset = this.assets.get(name);
    if (asset === undefined) throw new NotFoundException();
    return send(reply, asset);
  }
}

function send(reply: HttpReply, asset: ConsoleAsset): string {
  reply.header('Content-Type', asset.contentType);
  reply.header('Cache-Control', CONSOLE_CACHE_CONTROL);
  reply.header('Content-Security-Policy', CONSOLE_CSP);
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  return asset.body;
}
